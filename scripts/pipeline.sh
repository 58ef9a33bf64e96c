#!/usr/bin/env bash
# The verification pipeline: every preset is generated, linted, tested, built
# into an image, run hardened, tested black-box against CONTRACT.md, drained
# under load, and measured. See README.md "Verification pipeline".
#
#   scripts/pipeline.sh [options] [PRESET...]     # default: every test/presets/*.json
#
#   --stage LIST   only these stages (comma-separated), e.g. --stage conformance
#   --from STAGE   this stage and the ones after it
#   --containers all|auto|none
#                  which presets run the container stages (build, run, conformance,
#                  drain, runs, eval, faults): auto (default) = the first preset of each framework x store
#                  pair plus any preset named "default"; all; none
#   --fail-fast    stop at the first failure (default: finish the other presets)
#   --keep         leave the conformance container running afterwards
#   -h, --help
#
# Stages, in order: generate lint python observability build run conformance mcp
# browser drain runs eval faults report. (browser: the playground in Debian's headless chromium, CHROMIUM.)
# A stage that needs an earlier one's product takes it from out/ (generate ->
# out/<preset>, build -> the image localhost/cas-<preset>:pipeline; with
# PIPELINE_ID=x, cas-x-<preset>, so two checkouts can run it at once); the
# conformance and drain stages start their own container when none is running (faults
# always starts its own).
#
# Environment: PIPELINE_OUT (out), PYTHON_IMAGE (unset: the local Debian base
# matching each preset's python, see python_image_for; `default`: the
# Dockerfile's own), UV_IMAGE (the local uv image, scripts/make-base-images.sh), ENGINE (podman; docker works too),
# PIPELINE_PORT_BASE (18310), PIPELINE_PYTHON (unset: each preset's python and
# observability stages run on the Python version it was generated for, found
# under `pyenv root`/versions or as pythonX.Y on PATH; set: that interpreter for
# every preset), PIPELINE_PRESETS (test/presets),
# PIPELINE_SNAPSHOTS (test/snapshots), DRAIN_LATENCY_MS (2500),
# DRAIN_SHUTDOWN_TIMEOUT (15), RUNS_COUNT (500), RUNS_LATENCY_MS (500),
# RUNS_VISIBILITY_TIMEOUT (8), CONFORMANCE_FUZZ_COUNT (1000), CHROMIUM
# (/usr/bin/chromium), OBS_PORT_BASE
# (PIPELINE_PORT_BASE+40: scripts/verify-observability.sh's ports +10, +20, +40).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

ALL_STAGES=(generate lint python observability build run conformance mcp browser drain runs eval faults report)
CONTAINER_STAGES=" build run conformance mcp browser drain runs eval faults "
OUT=$(realpath -m "${PIPELINE_OUT:-out}")
ENGINE="${ENGINE:-podman}"
# Unset: per preset, the local base whose python3 is the preset's Python where
# Debian has one (3.13: trixie), else bookworm's 3.11 (see python_image_for).
PYTHON_IMAGE="${PYTHON_IMAGE:-}"
UV_IMAGE="${UV_IMAGE:-localhost/uv:local}"
PORT_BASE="${PIPELINE_PORT_BASE:-18310}"
PRESETS_DIR="${PIPELINE_PRESETS:-test/presets}"
export PIPELINE_PRESETS="$PRESETS_DIR" # for the report writer
SNAPSHOTS_DIR="${PIPELINE_SNAPSHOTS:-test/snapshots}"
APP_PORT=$PORT_BASE              # the conformance container
VARIANT_PORT=$((PORT_BASE + 1))  # auth off / docs off / rate limit
DRAIN_PORT=$((PORT_BASE + 2))    # the drain container
BROWSER_PORT=$((PORT_BASE + 3))  # the browser stage's container
EVAL_PORT=$((PORT_BASE + 4))     # the eval containers (as shipped, then misbehaving)
FAULTS_PORT=$((PORT_BASE + 5))   # the faults container
FAULTS_UPSTREAM_PORT=$((PORT_BASE + 6)) # the misbehaving model endpoint it calls
MCP_APP_PORT=$((PORT_BASE + 7))  # the mcp stage's container
MCP_TOOLS_PORT=$((PORT_BASE + 8)) # the MCP server beside it
RUNS_API_PORT=$((PORT_BASE + 9))      # the runs stage: the api
RUNS_WORKER_A_PORT=$((PORT_BASE + 10)) # its workers' probe ports: the one that gets SIGTERM,
RUNS_WORKER_B_PORT=$((PORT_BASE + 11)) # the one that gets SIGKILL (its replacement takes the port over),
RUNS_WORKER_C_PORT=$((PORT_BASE + 12)) # the SIGTERMed one's replacement
FALLBACK_PRIMARY_PORT=$((PORT_BASE + 16)) # conformance's fallback pass: the failing primary model endpoint
FALLBACK_SPARE_PORT=$((PORT_BASE + 17))   # and the spare it falls back to
export OBS_PORT_BASE="${OBS_PORT_BASE:-$((PORT_BASE + 40))}" # verify-observability: +10 service, +20 Prometheus, +40 OTLP
CAS="cas${PIPELINE_ID:+-$PIPELINE_ID}" # image and container name prefix
API_KEY="cas-pipeline-key-0123456789"
SECOND_KEY="cas-pipeline-key-second"
DRAIN_LATENCY_MS="${DRAIN_LATENCY_MS:-2500}"
DRAIN_SHUTDOWN_TIMEOUT="${DRAIN_SHUTDOWN_TIMEOUT:-15}"
export UV_PYTHON_DOWNLOADS=never
export UV_NO_PROGRESS=1
# uv by its real path: a pyenv shim would pick the generated project's
# .python-version interpreter, which may not have uv.
UV=$(command -v uv || true)
if [[ $UV == */shims/uv ]] && command -v pyenv >/dev/null; then UV=$(pyenv which uv 2>/dev/null || echo "$UV"); fi
UV=${UV:-uv}

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }

stages=("${ALL_STAGES[@]}")
containers=auto
fail_fast=0
keep=0
presets=()
while (($#)); do
  case "$1" in
    --stage | --stages)
      IFS=, read -r -a stages <<<"${2:?--stage needs a list}"
      shift 2
      ;;
    --from)
      from="${2:?--from needs a stage}"
      stages=()
      found=0
      for s in "${ALL_STAGES[@]}"; do
        [[ $s == "$from" ]] && found=1
        ((found)) && stages+=("$s")
      done
      ((found)) || { echo "pipeline: unknown stage '$from' (${ALL_STAGES[*]})" >&2; exit 2; }
      shift 2
      ;;
    --containers)
      containers="${2:?}"
      [[ $containers =~ ^(all|auto|none)$ ]] || { echo "pipeline: --containers all|auto|none" >&2; exit 2; }
      shift 2
      ;;
    --fail-fast) fail_fast=1; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "pipeline: unknown option $1" >&2; exit 2 ;;
    *) presets+=("$1"); shift ;;
  esac
done
for s in "${stages[@]}"; do
  [[ " ${ALL_STAGES[*]} " == *" $s "* ]] || { echo "pipeline: unknown stage '$s' (${ALL_STAGES[*]})" >&2; exit 2; }
done
if ((${#presets[@]} == 0)); then
  for f in "$PRESETS_DIR"/*.json; do
    [[ -e $f ]] && presets+=("$(basename "$f" .json)")
  done
fi
((${#presets[@]})) || { echo "pipeline: no presets ($PRESETS_DIR/*.json)" >&2; exit 2; }
for p in "${presets[@]}"; do
  [[ -f $PRESETS_DIR/$p.json ]] || { echo "pipeline: no preset $PRESETS_DIR/$p.json" >&2; exit 2; }
done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
hr() { printf '%*s\n' 78 '' | tr ' ' "${1:--}"; }

# answer PRESET KEY: one answer of a preset: from the generated answers file when
# out/<preset> exists (every answer resolved), else from the preset with the
# generator's defaults for the keys the pipeline needs.
answer() {
  node -e '
    const fs = require("fs");
    const [presetFile, generated, key] = process.argv.slice(1);
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return undefined; } };
    const g = read(generated);
    const p = read(presetFile) ?? {};
    const defaults = { framework: "fastapi", observability: "prometheus", store: "memory", port: 8000 };
    const a = g?.answers ?? { ...defaults, ...(p.answers ?? p) };
    const v = a[key];
    process.stdout.write(v === undefined ? "" : String(v));
  ' "$PRESETS_DIR/$1.json" "$OUT/$1/.agent-service.json" "$2"
}

# python_for PRESET: the interpreter for the preset's own checks, the Python
# version it was generated for (PIPELINE_PYTHON overrides): the newest pyenv
# build of that X.Y, else pythonX.Y on PATH. Never a download, never another
# version: a project generated for 3.13 is tested on 3.13.
python_for() {
  if [[ -n ${PIPELINE_PYTHON:-} ]]; then
    echo "$PIPELINE_PYTHON"
    return 0
  fi
  local version
  version=$(answer "$1" python)
  [[ $version =~ ^3\.[0-9]+$ ]] || { echo "pipeline: preset $1 has no python answer (run the generate stage)" >&2; return 1; }
  local root candidate found=""
  root=$(pyenv root 2>/dev/null || true)
  if [[ -n $root ]]; then
    for candidate in $(ls -d "$root/versions/$version".* 2>/dev/null | sort -V); do
      [[ -x $candidate/bin/python$version ]] && found=$candidate/bin/python$version
    done
  fi
  [[ -z $found ]] && found=$(command -v "python$version" 2>/dev/null || true)
  [[ -n $found ]] || { echo "pipeline: no Python $version for preset $1 (pyenv install $version, or put python$version on PATH)" >&2; return 1; }
  echo "$found"
}

# python_image_for PRESET: the base image of its build. PYTHON_IMAGE when set
# (`default`: the Dockerfile's own python:X.Y-slim-bookworm, the preset's
# version exactly). Else the local Debian base (scripts/make-base-images.sh)
# with the preset's Python: 3.13 -> trixie, 3.11 -> bookworm. Debian ships no
# 3.12, so 3.12 presets build on bookworm's 3.11: the Dockerfile's venv uses
# the base's python3 (UV_PYTHON=python3), the project needs >=3.11 and its
# lock is universal, so that image works; the python stage still tests 3.12.
python_image_for() {
  if [[ -n $PYTHON_IMAGE ]]; then
    echo "$PYTHON_IMAGE"
  elif [[ $(answer "$1" python) == 3.13 ]]; then
    echo localhost/python-base:trixie
  else
    echo localhost/python-base:bookworm
  fi
}

# Which presets run the container stages (auto: first of each framework x store pair, and "default").
declare -A container_preset=()
declare -A seen_pair=()
for p in "${presets[@]}"; do
  pair="$(answer "$p" framework)/$(answer "$p" store)"
  case $containers in
    all) container_preset[$p]=1 ;;
    none) ;;
    auto)
      if [[ $p == default || -z ${seen_pair[$pair]:-} ]]; then container_preset[$p]=1; fi
      ;;
  esac
  seen_pair[$pair]=1
done

needs_containers=0
needs_node_build=0
for s in "${stages[@]}"; do
  [[ $CONTAINER_STAGES == *" $s "* ]] && needs_containers=1
  [[ $s == generate ]] && needs_node_build=1
done

mkdir -p "$OUT/report" "$OUT/logs"
failures=()

# ------------------------------------------------------------------ helpers --
# run_logged LOG CMD...: run, output to LOG; on failure show its tail.
run_logged() {
  local log=$1
  shift
  local rc=0
  "$@" >>"$log" 2>&1 || rc=$?
  ((rc == 0)) && return 0
  echo "  --- last lines of $log ---"
  tail -n 80 "$log" | sed 's/^/  | /'
  return $rc
}

image_exists() { $ENGINE image inspect "$1" >/dev/null 2>&1; }
container_running() { [[ $($ENGINE inspect -f '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }
remove_container() { $ENGINE rm -f -t 0 "$1" >/dev/null 2>&1 || $ENGINE rm -f "$1" >/dev/null 2>&1 || true; }
# save_logs PRESET NAME: keep a container's own log next to the stage logs.
save_logs() { $ENGINE logs "$2" >"$OUT/logs/$1/container-$2.log" 2>&1 || true; }

# start_container PRESET NAME HOSTPORT LOG [ENV=VALUE...]: run the image hardened
# (exactly as the Kubernetes manifest does), wait for its HEALTHCHECK; prints the
# seconds to healthy.
start_container() {
  local preset=$1 name=$2 hostport=$3 log=$4
  shift 4
  local image="localhost/$CAS-$preset:pipeline"
  local port store
  port=$(answer "$preset" port)
  port=${port:-8000}
  store=$(answer "$preset" store)
  remove_container "$name"
  local net=(-p "127.0.0.1:$hostport:$port")
  local envs=()
  if [[ $store == redis || $store == postgres || ${CONTAINER_HOST_NETWORK:-0} == 1 ]]; then
    # The stores (scripts/services.sh), the faults stage's upstream and the mcp
    # stage's MCP server run on the host's loopback: share the host's network
    # namespace, listen on loopback only, on our port.
    net=(--network host)
    envs+=(-e "HOST=127.0.0.1" -e "PORT=$hostport")
  fi
  if [[ $store == redis || $store == postgres ]]; then
    scripts/services.sh start "$store" >>"$log" 2>&1 || return 1
    eval "$(scripts/services.sh env "$store")"
    [[ $store == redis ]] && envs+=(-e "SESSION_STORE=redis" -e "REDIS_URL=$REDIS_URL")
    [[ $store == postgres ]] && envs+=(-e "SESSION_STORE=postgres" -e "DATABASE_URL=$DATABASE_URL")
  fi
  for kv in "$@"; do envs+=(-e "$kv"); done
  local t0
  t0=$(now)
  $ENGINE run -d --name "$name" \
    --read-only --tmpfs /tmp --cap-drop=ALL --security-opt no-new-privileges --user 10001 \
    "${net[@]}" "${envs[@]}" ${CONTAINER_MOUNT:+-v "$CONTAINER_MOUNT"} "$image" >>"$log" 2>&1 || return 1
  local deadline=$((SECONDS + 90))
  if [[ -z $($ENGINE inspect -f '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Test}}{{end}}' "$name" 2>/dev/null) ]]; then
    echo "image $image has no HEALTHCHECK" >>"$log"
    return 1
  fi
  while ((SECONDS < deadline)); do
    if ! container_running "$name"; then
      echo "container $name exited: $($ENGINE inspect -f '{{.State.ExitCode}}' "$name" 2>/dev/null)" >>"$log"
      $ENGINE logs "$name" >>"$log" 2>&1 || true
      return 1
    fi
    if healthy "$name"; then
      since "$t0"
      return 0
    fi
    sleep 0.3
  done
  echo "container $name not healthy after 90 s" >>"$log"
  $ENGINE logs "$name" >>"$log" 2>&1 || true
  return 1
}

# healthy NAME: run the image's HEALTHCHECK now (podman), or read the engine's
# latest health status (docker runs the checks itself, every --interval).
healthy() {
  if [[ $ENGINE == podman ]]; then
    $ENGINE healthcheck run "$1" >/dev/null 2>&1
  else
    [[ $($ENGINE inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null) == healthy ]]
  fi
}

# check the hardening actually applied
check_hardening() {
  local name=$1
  local got
  got=$($ENGINE inspect -f 'readonly={{.HostConfig.ReadonlyRootfs}} user={{.Config.User}} capdrop={{.HostConfig.CapDrop}} secopt={{.HostConfig.SecurityOpt}}' "$name")
  echo "  hardening: $got"
  [[ $got == *"readonly=true"* && $got == *"user=10001"* && $got == *"no-new-privileges"* ]] || { echo "  hardening not applied"; return 1; }
  # Every capability dropped: the effective set of PID 1 is empty.
  local capeff
  capeff=$($ENGINE exec "$name" sh -c 'grep CapEff /proc/1/status' 2>/dev/null | awk '{print $2}')
  [[ -z $capeff || $capeff =~ ^0+$ ]] || { echo "  PID 1 has capabilities $capeff"; return 1; }
  local uid
  uid=$($ENGINE exec "$name" sh -c 'grep ^Uid: /proc/1/status' 2>/dev/null | awk '{print $2}')
  [[ -z $uid || $uid == 10001 ]] || { echo "  PID 1 runs as uid $uid"; return 1; }
}

frag() { echo "$OUT/report/$1"; } # per-preset report fragments: $OUT/report/<preset>/

# ------------------------------------------------------------------- stages --
# The python stage's copy of the project, out/work/<preset>, with its .venv; made
# here (and synced unless "nosync") when a run starts at a later stage.
work_copy() {
  local p=$1 log=$2 sync=${3:-sync} work="$OUT/work/$1"
  [[ -x $work/.venv/bin/python ]] && return 0
  rm -rf "$work"
  mkdir -p "$OUT/work"
  cp -a "$OUT/$p" "$work"
  [[ $sync == sync ]] || return 0
  (cd "$work" && run_logged "$log" "$UV" sync --frozen)
}

stage_generate() {
  local p=$1 log=$2
  local dir="$OUT/$p"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  # Presets are partial answers: --preset fills the rest with defaults, --yes never
  # prompts; --name because DIR's basename (the preset's file name) would win otherwise.
  local name
  name=$(answer "$p" name)
  run_logged "$log" node bin/create-agent-service.js "$dir" --yes --preset "$PRESETS_DIR/$p.json" \
    ${name:+--name "$name"} --no-git --no-install || return 1
  local snap="$SNAPSHOTS_DIR/$p" files
  files=$(find "$dir" -type f | wc -l)
  if [[ ! -d $snap ]]; then
    echo "  no snapshot at $snap: generated $files files, not compared"
    if [[ ${CI:-} == true ]]; then
      echo "  (CI requires a snapshot for every preset)"
      return 1
    fi
    return 0
  fi
  # The snapshots store files git would interpret (.gitignore, .gitattributes) as
  # NAME.snap: compare a copy named the same way, contents and executable bits.
  local cmp="$OUT/work/$p-snapshot"
  rm -rf "$cmp"
  mkdir -p "$OUT/work"
  cp -a "$dir" "$cmp"
  find "$cmp" -depth \( -name .gitignore -o -name .gitattributes \) -exec mv {} {}.snap \;
  local rc=0
  if ! diff -r "$snap" "$cmp" >>"$log" 2>&1; then
    echo "  out/$p differs from $snap (refresh with the generator's snapshot update if intended):"
    diff -r "$snap" "$cmp" | head -n 60 | sed 's/^/  | /'
    rc=1
  fi
  local xa xb
  xa=$(cd "$snap" && find . -type f -perm -u+x | sort)
  xb=$(cd "$cmp" && find . -type f -perm -u+x | sort)
  if [[ $xa != "$xb" ]]; then
    echo "  executable bits differ from $snap:"
    diff <(echo "$xa") <(echo "$xb") | sed 's/^/  | /'
    rc=1
  fi
  rm -rf "$cmp"
  ((rc == 0)) && echo "  identical to $snap ($files files)"
  return $rc
}

stage_lint() {
  local p=$1 log=$2
  run_logged "$log" bash scripts/lint-infra.sh "$OUT/$p" || return 1
  grep -E '^(PASS|FAIL)|^lint-infra:' "$log" | sed 's/^/  /'
}

stage_python() {
  local p=$1 log=$2
  local work="$OUT/work/$p"
  rm -rf "$work"
  mkdir -p "$OUT/work"
  cp -a "$OUT/$p" "$work"
  local store
  store=$(answer "$p" store)
  local envs=()
  if [[ $store == redis || $store == postgres ]]; then
    run_logged "$log" scripts/services.sh start "$store" || return 1
    eval "$(scripts/services.sh env "$store")"
    [[ $store == redis ]] && envs+=("REDIS_URL=$REDIS_URL")
    [[ $store == postgres ]] && envs+=("DATABASE_URL=$DATABASE_URL")
  fi
  local t
  UV_PYTHON=$(python_for "$p") || return 1
  export UV_PYTHON
  (
    cd "$work"
    echo "  python: $UV_PYTHON ($("$UV_PYTHON" --version 2>&1))"
    t=$(now); run_logged "$log" "$UV" sync --frozen || exit 1; echo "  uv sync --frozen: $(since "$t") s"
    t=$(now); run_logged "$log" "$UV" run --frozen --no-sync ruff check . || exit 1; echo "  ruff check: $(since "$t") s"
    t=$(now); run_logged "$log" "$UV" run --frozen --no-sync ruff format --check . || exit 1; echo "  ruff format --check: $(since "$t") s"
    t=$(now); run_logged "$log" "$UV" run --frozen --no-sync mypy || exit 1; echo "  mypy: $(since "$t") s"
    t=$(now); run_logged "$log" env "${envs[@]}" "$UV" run --frozen --no-sync pytest -p no:cacheprovider || exit 1; echo "  pytest: $(since "$t") s"
    grep -E '^(TOTAL|=+ .*(passed|failed).*|[0-9]+ passed.*)' "$log" | tail -n 2 | sed 's/^/  /'
  )
}

# observability: scripts/verify-observability.sh in process mode (the service runs
# as `python -m <pkg>` from the python stage's copy and its .venv): promtool on the
# generated Prometheus files, the static checks of every stack, and for the
# prometheus/otel presets the live checks (a real Prometheus scraping it, or a test
# OTLP receiver). Without a python stage before it the script makes the .venv itself.
stage_observability() {
  local p=$1 log=$2
  local work="$OUT/work/$p"
  work_copy "$p" "$log" nosync || return 1
  mkdir -p "$(frag "$p")"
  UV_PYTHON=$(python_for "$p") || return 1
  export UV_PYTHON
  # A shared store lets the live checks run two workers (the multiprocess paths).
  local store
  store=$(answer "$p" store)
  if [[ $store == redis || $store == postgres ]]; then
    run_logged "$log" scripts/services.sh start "$store" || return 1
    eval "$(scripts/services.sh env "$store")"
  fi
  local rc=0
  UV_BIN="$UV" OBS_VITEST_JSON="$(frag "$p")/observability.json" \
    run_logged "$log" env NO_COLOR=1 bash scripts/verify-observability.sh "$work" || rc=1
  grep -E 'SUCCESS|FAILED|Test Files|Tests ' "$log" | sed 's/^/  /'
  return $rc
}

stage_build() {
  local p=$1 log=$2
  local image="localhost/$CAS-$p:pipeline"
  local python_image
  python_image=$(python_image_for "$p")
  for img in "$python_image" "$UV_IMAGE"; do
    [[ $img == default ]] && continue
    image_exists "$img" || { echo "  base image $img missing: run scripts/make-base-images.sh"; return 1; }
  done
  echo "  base: $python_image (preset python $(answer "$p" python))"
  local args=()
  # PYTHON_IMAGE=default: the Dockerfile's own defaults (the public images; GitHub CI).
  [[ $python_image != default ]] && args+=(--build-arg "PYTHON_IMAGE=$python_image")
  [[ $UV_IMAGE != default ]] && args+=(--build-arg "UV_IMAGE=$UV_IMAGE")
  # podman writes OCI images by default, which have no HEALTHCHECK: ask for Docker's format.
  [[ $ENGINE == podman ]] && args+=(--format docker)
  local t cold warm
  # Cold: no layer cache (uv's download cache mount may be warm, as on CI with a cache).
  t=$(now)
  run_logged "$log" "$ENGINE" build --no-cache "${args[@]}" -t "$image" "$OUT/$p" || return 1
  cold=$(since "$t")
  echo "  cold build: $cold s"
  # Warm: a one-line change in the application code, rebuilt with the cache.
  local warmdir="$OUT/work/$p-warm" pkg
  rm -rf "$warmdir"
  mkdir -p "$OUT/work"
  cp -a "$OUT/$p" "$warmdir"
  pkg=$(answer "$p" name)
  pkg=${pkg//-/_}
  echo "# a code-only change for the rebuild measurement" >>"$warmdir/src/$pkg/__init__.py"
  t=$(now)
  run_logged "$log" "$ENGINE" build "${args[@]}" -t "localhost/$CAS-$p:warm" "$warmdir" || return 1
  warm=$(since "$t")
  echo "  rebuild after a one-line code change: $warm s"
  $ENGINE rmi "localhost/$CAS-$p:warm" >/dev/null 2>&1 || true
  rm -rf "$warmdir"
  local size
  size=$($ENGINE image inspect -f '{{.Size}}' "$image")
  echo "  image $image: $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }')"
  mkdir -p "$(frag "$p")"
  if [[ $ENGINE == podman ]]; then
    $ENGINE history --format json "$image" >"$(frag "$p")/history.json"
  else
    $ENGINE history --human=false --no-trunc --format '{{json .}}' "$image" >"$(frag "$p")/history.jsonl"
  fi
  printf '{"cold_s": %s, "warm_s": %s, "size_bytes": %s, "image": "%s", "python_image": "%s", "uv_image": "%s"}\n' \
    "$cold" "$warm" "$size" "$image" "$python_image" "$UV_IMAGE" >"$(frag "$p")/build.json"
}

stage_run() {
  local p=$1 log=$2 secs
  local name="$CAS-$p"
  if ! secs=$(start_container "$p" "$name" "$APP_PORT" "$log" "API_KEYS=$API_KEY,$SECOND_KEY"); then
    echo "  --- last lines of $log ---"
    tail -n 40 "$log" | sed 's/^/  | /'
    return 1
  fi
  echo "  healthy after $secs s (HEALTHCHECK via $ENGINE)"
  check_hardening "$name" || return 1
  mkdir -p "$(frag "$p")"
  printf '{"healthy_s": %s}\n' "$secs" >"$(frag "$p")/run.json"
}

base_url_for() { echo "http://127.0.0.1:$1"; }

# store_namespace PRESET NAME: the environment that gives a container a namespace
# of its own in the shared store (scripts/services.sh), as two services sharing one
# store would have: REDIS_KEY_PREFIX, or a Postgres schema of its own (created here,
# named in DATABASE_URL's search_path). Prints KEY=VALUE lines; nothing for memory.
store_namespace() {
  local store name=${2//[^a-z0-9_]/_}
  name=${name:0:60} # a Postgres identifier, and REDIS_KEY_PREFIX with its colon, stay short
  store=$(answer "$1" store)
  [[ $store == redis || $store == postgres ]] || return 0
  eval "$(scripts/services.sh env "$store")"
  case $store in
    redis) echo "REDIS_KEY_PREFIX=$name:" ;;
    postgres)
      psql "$DATABASE_URL" -q -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $name CASCADE; CREATE SCHEMA $name" >/dev/null || return 1
      echo "DATABASE_URL=$DATABASE_URL?options=-csearch_path%3D$name"
      ;;
  esac
}

stage_conformance() {
  local p=$1 log=$2
  local name="$CAS-$p"
  if ! container_running "$name"; then
    echo "  (no running container $name: starting one)"
    start_container "$p" "$name" "$APP_PORT" "$log" "API_KEYS=$API_KEY,$SECOND_KEY" >/dev/null || return 1
  fi
  mkdir -p "$(frag "$p")"
  local rc=0
  # Pass 1: auth on (two keys configured, the suite uses the first), docs on, no rate limit.
  CONFORMANCE_BASE_URL=$(base_url_for "$APP_PORT") CONFORMANCE_API_KEY=$API_KEY \
    run_logged "$log" env NO_COLOR=1 npx vitest run --project conformance --reporter=default --reporter=json \
    --outputFile.json="$(frag "$p")/conformance.json" || rc=1
  grep -E 'Test Files|Tests |fuzz seed' "$log" | tail -n 3 | sed 's/^/  auth on: /'
  save_logs "$p" "$name"
  ((keep)) || remove_container "$name"
  # Pass 2: auth off, docs off, a rate limit: only the files that test those.
  # Its rate-limit windows start empty: a namespace of its own in a shared store.
  local vname="$CAS-$p-variant" namespace
  namespace=$(store_namespace "$p" "cas_${PIPELINE_ID:-ci}_$$_ratelimit_${p}") || return 1
  # shellcheck disable=SC2086 # one KEY=VALUE per word (none has a space)
  start_container "$p" "$vname" "$VARIANT_PORT" "$log" "DOCS_ENABLED=false" "RATE_LIMIT_PER_MINUTE=8" $namespace >/dev/null || return 1
  CONFORMANCE_BASE_URL=$(base_url_for "$VARIANT_PORT") CONFORMANCE_DOCS=off CONFORMANCE_RATE_LIMIT_PER_MINUTE=8 \
    run_logged "$log" env NO_COLOR=1 npx vitest run --project conformance --reporter=default --reporter=json \
    --outputFile.json="$(frag "$p")/conformance-variant.json" \
    test/conformance/variant.test.ts test/conformance/rate-limit.test.ts || rc=1
  grep -E 'Test Files|Tests ' "$log" | tail -n 1 | sed 's/^/  auth off, docs off, rate limit 8\/min: /'
  save_logs "$p" "$vname"
  remove_container "$vname"
  # Pass 3: small daily token budgets, spent until 429 budget_exceeded: the first key's
  # own (1200), then the service's (2000) with the second key. With a shared store the
  # daily counters outlive the container (and earlier presets spent on theirs): the
  # pass gets a namespace of its own in the store, named by this run and the preset
  # (the presets of one run share the store), so its counters start at zero.
  namespace=$(store_namespace "$p" "cas_${PIPELINE_ID:-ci}_$$_budget_${p}") || return 1
  # shellcheck disable=SC2086 # one KEY=VALUE per word (none has a space)
  start_container "$p" "$vname" "$VARIANT_PORT" "$log" "API_KEYS=$API_KEY,$SECOND_KEY" "TOKEN_BUDGET_DAILY=2000" \
    "KEY_TOKEN_BUDGET_DAILY=1200" $namespace >/dev/null || return 1
  CONFORMANCE_BASE_URL=$(base_url_for "$VARIANT_PORT") CONFORMANCE_API_KEY=$API_KEY CONFORMANCE_TOKEN_BUDGET_DAILY=2000 \
    CONFORMANCE_SECOND_API_KEY=$SECOND_KEY CONFORMANCE_KEY_TOKEN_BUDGET_DAILY=1200 \
    run_logged "$log" env NO_COLOR=1 npx vitest run --project conformance --reporter=default --reporter=json \
    --outputFile.json="$(frag "$p")/conformance-budget.json" test/conformance/budget.test.ts test/conformance/usage.test.ts || rc=1
  grep -E 'Test Files|Tests ' "$log" | tail -n 1 | sed 's/^/  token budgets 1200\/day per key, 2000\/day in all: /'
  $ENGINE logs "$vname" >"$OUT/logs/$p/container-$vname-budget.log" 2>&1 || true
  remove_container "$vname"
  # Pass 5: a failing primary model endpoint and a spare in LLM_FALLBACK_MODELS
  # (test/conformance/fallback.test.ts starts both on loopback), the response cache on.
  CONTAINER_HOST_NETWORK=1 start_container "$p" "$vname" "$VARIANT_PORT" "$log" "API_KEYS=$API_KEY,$SECOND_KEY" \
    "LLM_BASE_URL=http://127.0.0.1:$FALLBACK_PRIMARY_PORT/v1" "LLM_API_KEY=conformance-primary-key" \
    "LLM_MODEL=primary-model" "LLM_FALLBACK_MODELS=spare-model|http://127.0.0.1:$FALLBACK_SPARE_PORT/v1" \
    "LLM_TIMEOUT=2" "LLM_MAX_RETRIES=1" "RESPONSE_CACHE_TTL_SECONDS=60" >/dev/null || return 1
  CONFORMANCE_BASE_URL=$(base_url_for "$VARIANT_PORT") CONFORMANCE_API_KEY=$API_KEY CONFORMANCE_SECOND_API_KEY=$SECOND_KEY \
    CONFORMANCE_FALLBACK_PRIMARY_PORT=$FALLBACK_PRIMARY_PORT CONFORMANCE_FALLBACK_SPARE_PORT=$FALLBACK_SPARE_PORT \
    CONFORMANCE_RESPONSE_CACHE_TTL_SECONDS=60 \
    run_logged "$log" env NO_COLOR=1 npx vitest run --project conformance --reporter=default --reporter=json \
    --outputFile.json="$(frag "$p")/conformance-fallback.json" test/conformance/fallback.test.ts || rc=1
  grep -E 'Test Files|Tests ' "$log" | tail -n 1 | sed 's/^/  fallback models, response cache: /'
  $ENGINE logs "$vname" >"$OUT/logs/$p/container-$vname-fallback.log" 2>&1 || true
  remove_container "$vname"
  # Pass 4, observability=prometheus: scripts/verify-observability.sh against the
  # hardened container (its WORKERS, the multiprocess directory on the tmpfs), a
  # real Prometheus scraping it; auth off (the checks send no key); a daily token
  # budget and a price for the fake model, as in process mode, so that
  # agent_token_budget_used_ratio and agent_cost_usd_total are exported.
  if [[ $(answer "$p" observability) == prometheus ]]; then
    start_container "$p" "$vname" "$VARIANT_PORT" "$log" "TOKEN_BUDGET_DAILY=1000000" \
      'LLM_PRICES={"fake": {"input": 1, "output": 4, "cached_input": 0.5}}' >/dev/null || return 1
    OBS_VITEST_JSON="$(frag "$p")/observability-container.json" \
      run_logged "$log" env NO_COLOR=1 bash scripts/verify-observability.sh "$OUT/$p" "$(base_url_for "$VARIANT_PORT")" || rc=1
    grep -E 'Test Files|Tests ' "$log" | tail -n 1 | sed 's/^/  observability (Prometheus scraping the container): /'
    $ENGINE logs "$vname" >"$OUT/logs/$p/container-$vname-observability.log" 2>&1 || true
    remove_container "$vname"
  fi
  return $rc
}

# browser: the playground (GET /playground) in a real headless Chromium, Debian's
# chromium driven by playwright-core (test/browser/playground.mjs), against the
# hardened container with an API key configured and a fake model slow enough
# (FAKE_LLM_LATENCY_MS) that the tokens visibly stream. Screenshots and the checks:
# out/report/<preset>/playground*.png, browser.json.
stage_browser() {
  local p=$1 log=$2
  local name="$CAS-$p-browser" chromium="${CHROMIUM:-/usr/bin/chromium}"
  [[ -x $chromium ]] || { echo "  no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)"; return 1; }
  local envs=("API_KEYS=$API_KEY" "FAKE_LLM_LATENCY_MS=300")
  # The memory store is per process: with several workers a reload may reach one
  # that never saw the session (the page then says the session is gone).
  [[ $(answer "$p" store) == memory ]] && envs+=("WORKERS=1")
  start_container "$p" "$name" "$BROWSER_PORT" "$log" "${envs[@]}" >/dev/null || return 1
  mkdir -p "$(frag "$p")"
  rm -f "$(frag "$p")"/playground*.png "$(frag "$p")/browser.json"
  local rc=0
  BROWSER_BASE_URL=$(base_url_for "$BROWSER_PORT") BROWSER_API_KEY=$API_KEY CHROMIUM=$chromium \
    BROWSER_SCREENSHOT_DIR="$(frag "$p")" BROWSER_REPORT="$(frag "$p")/browser.json" \
    run_logged "$log" node test/browser/playground.mjs || rc=1
  grep -E '^FAIL |passed, ' "$log" | sed 's/^/  /'
  ((rc)) || echo "  screenshots: $(frag "$p")/playground.png, playground-dark.png, playground-360.png"
  save_logs "$p" "$name"
  remove_container "$name"
  return $rc
}

# mcp: MCP both ways against the hardened container. An SDK-built MCP server (the
# generated project's tests/mcp_test_server.py, run from its own .venv) listens
# beside it on loopback over Streamable HTTP with a bearer token; the container gets
# it in MCP_SERVERS_FILE (mounted read-only, required, the token from the environment)
# and MCP_SERVER_ENABLED=true; then test/conformance/mcp.test.ts calls its /mcp with
# the TypeScript SDK's client, and through the agent the beside server's echo tool.
stage_mcp() {
  local p=$1 log=$2
  local name="$CAS-$p-mcp" work="$OUT/work/$p" dir="$OUT/work/$p-mcp"
  work_copy "$p" "$log" || return 1
  rm -rf "$dir"
  mkdir -p "$dir" "$(frag "$p")"
  local token="cas-pipeline-mcp-token"
  "$work/.venv/bin/python" "$work/tests/mcp_test_server.py" http "$MCP_TOOLS_PORT" "$token" >>"$log" 2>&1 &
  local tools_pid=$!
  local deadline=$((SECONDS + 60))
  until (exec 3<>"/dev/tcp/127.0.0.1/$MCP_TOOLS_PORT") 2>/dev/null; do
    if ((SECONDS > deadline)) || ! kill -0 "$tools_pid" 2>/dev/null; then
      echo "  the MCP server beside the container did not start"
      kill "$tools_pid" 2>/dev/null
      return 1
    fi
    sleep 0.2
  done
  cat >"$dir/mcp-servers.json" <<JSON
{"servers": [{"name": "beside", "transport": "streamable_http",
  "url": "http://127.0.0.1:$MCP_TOOLS_PORT/mcp",
  "headers": {"Authorization": {"env": "BESIDE_MCP_TOKEN", "prefix": "Bearer "}},
  "tools": ["echo"], "required": true}]}
JSON
  chmod a+r "$dir/mcp-servers.json"
  local rc=0
  CONTAINER_HOST_NETWORK=1 CONTAINER_MOUNT="$dir/mcp-servers.json:/etc/agent/mcp-servers.json:ro" \
    start_container "$p" "$name" "$MCP_APP_PORT" "$log" "API_KEYS=$API_KEY" "MCP_SERVER_ENABLED=true" \
    "MCP_SERVERS_FILE=/etc/agent/mcp-servers.json" "BESIDE_MCP_TOKEN=$token" >/dev/null || rc=1
  if ((rc == 0)); then
    check_hardening "$name" || rc=1
    CONFORMANCE_BASE_URL=$(base_url_for "$MCP_APP_PORT") CONFORMANCE_API_KEY=$API_KEY CONFORMANCE_MCP=on \
      CONFORMANCE_MCP_ECHO_TOOL=beside__echo \
      run_logged "$log" env NO_COLOR=1 npx vitest run --project conformance --reporter=default --reporter=json \
      --outputFile.json="$(frag "$p")/conformance-mcp.json" test/conformance/mcp.test.ts test/conformance/endpoints.test.ts || rc=1
    grep -E 'Test Files|Tests ' "$log" | tail -n 1 | sed 's/^/  MCP server and client (TypeScript SDK): /'
    save_logs "$p" "$name"
  fi
  remove_container "$name"
  kill "$tools_pid" 2>/dev/null
  wait "$tools_pid" 2>/dev/null
  return $rc
}

stage_drain() {
  local p=$1 log=$2
  local name="$CAS-$p-drain"
  start_container "$p" "$name" "$DRAIN_PORT" "$log" "API_KEYS=$API_KEY" \
    "FAKE_LLM_LATENCY_MS=$DRAIN_LATENCY_MS" "SHUTDOWN_TIMEOUT=$DRAIN_SHUTDOWN_TIMEOUT" >/dev/null || return 1
  mkdir -p "$(frag "$p")"
  local rc=0
  DRAIN_BASE_URL=$(base_url_for "$DRAIN_PORT") DRAIN_CONTAINER=$name DRAIN_API_KEY=$API_KEY DRAIN_ENGINE=$ENGINE \
    DRAIN_SHUTDOWN_TIMEOUT=$DRAIN_SHUTDOWN_TIMEOUT DRAIN_REPORT="$(frag "$p")/drain.json" \
    run_logged "$log" npx tsx test/drain/drain.ts || rc=1
  grep -E '^(PASS|FAIL) |passed, ' "$log" | sed 's/^/  /'
  save_logs "$p" "$name"
  if ((rc)); then
    echo "  --- container log (last lines) ---"
    $ENGINE logs "$name" 2>&1 | tail -n 30 | sed 's/^/  | /'
  fi
  remove_container "$name"
  return $rc
}

# runs: background runs (CONTRACT.md "Background runs") on the shared Redis or Postgres,
# run as a cluster would: for Postgres ROLE=migrate first (must exit 0), then the api
# and two workers, all the same hardened image, on a queue of this run's own
# (RUN_QUEUE_NAME), so runs an earlier preset left on the shared store stay out of it.
# test/runs/runs.ts queues RUNS_COUNT runs through the api (fake model, FAKE_LLM_LATENCY_MS
# so the kills land mid-run) and, mid-load, SIGTERMs one worker and SIGKILLs the
# other; this stage plays the orchestrator and starts a replacement for each (the
# markers in RUNS_CONTROL_DIR say when). Checks and figures: out/report/<preset>/runs.json.
RUNS_COUNT="${RUNS_COUNT:-500}"
RUNS_LATENCY_MS="${RUNS_LATENCY_MS:-500}"
RUNS_VISIBILITY_TIMEOUT="${RUNS_VISIBILITY_TIMEOUT:-8}" # short, so a SIGKILLed worker's runs are taken over within the stage's budget

# wait_marker FILE PID: until FILE exists; false if PID ended first, or after 90 s.
wait_marker() {
  local deadline=$((SECONDS + 90))
  while [[ ! -e $1 ]]; do
    kill -0 "$2" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

stage_runs() {
  local p=$1 log=$2
  local store n="$CAS-$p-runs" image="localhost/$CAS-$p:pipeline"
  store=$(answer "$p" store)
  mkdir -p "$(frag "$p")"
  rm -f "$(frag "$p")/runs.json"
  if [[ $store != redis && $store != postgres ]]; then
    echo "  skipped: memory store (runs execute in the api process, there are no workers to lose)"
    return 0
  fi
  local queue
  queue=$(printf '%s' "$CAS-$p-$(date +%s)" | tr -c 'A-Za-z0-9_-' '-' | tail -c 64)
  local ctl="$OUT/work/$p-runs"
  rm -rf "$ctl"
  mkdir -p "$ctl"
  local envs=("API_KEYS=$API_KEY,$SECOND_KEY" "RUN_QUEUE_NAME=$queue" "LOG_FORMAT=json"
    "FAKE_LLM_LATENCY_MS=$RUNS_LATENCY_MS" "RUN_VISIBILITY_TIMEOUT=$RUNS_VISIBILITY_TIMEOUT"
    "RUN_CONCURRENCY=16" "SHUTDOWN_TIMEOUT=10")
  local rc=0
  if [[ $store == postgres ]]; then
    scripts/services.sh start postgres >>"$log" 2>&1 || return 1
    eval "$(scripts/services.sh env postgres)"
    remove_container "$n-migrate"
    $ENGINE run --name "$n-migrate" --read-only --tmpfs /tmp --cap-drop=ALL --security-opt no-new-privileges \
      --user 10001 --network host -e ROLE=migrate -e SESSION_STORE=postgres -e "DATABASE_URL=$DATABASE_URL" \
      -e "RUN_QUEUE_NAME=$queue" -e LOG_FORMAT=json "$image" >>"$log" 2>&1 || rc=$?
    save_logs "$p" "$n-migrate"
    remove_container "$n-migrate"
    ((rc == 0)) || { echo "  ROLE=migrate exited $rc (log: $log)"; return 1; }
    echo "  ROLE=migrate: exit 0"
  fi
  start_container "$p" "$n-api" "$RUNS_API_PORT" "$log" ROLE=api "${envs[@]}" >/dev/null || { echo "  the api (ROLE=api) did not start (log: $log)"; return 1; }
  local pa pb
  start_container "$p" "$n-worker-a" "$RUNS_WORKER_A_PORT" "$log" ROLE=worker "${envs[@]}" >/dev/null &
  pa=$!
  start_container "$p" "$n-worker-b" "$RUNS_WORKER_B_PORT" "$log" ROLE=worker "${envs[@]}" >/dev/null &
  pb=$!
  wait "$pa" || rc=1
  wait "$pb" || rc=1
  ((rc == 0)) || { echo "  a worker (ROLE=worker) did not start (log: $log)"; return 1; }
  echo "  api and 2 workers healthy, queue $queue"
  RUNS_BASE_URL=$(base_url_for "$RUNS_API_PORT") RUNS_API_KEY=$API_KEY RUNS_OTHER_KEY=$SECOND_KEY \
    RUNS_SIGTERM_WORKER="$n-worker-a" RUNS_SIGKILL_WORKER="$n-worker-b" \
    RUNS_WORKERS="$n-worker-a,$n-worker-b,$n-worker-c,$n-worker-d" RUNS_CONTROL_DIR="$ctl" \
    RUNS_COUNT=$RUNS_COUNT RUNS_ENGINE=$ENGINE RUNS_REPORT="$(frag "$p")/runs.json" \
    npx tsx test/runs/runs.ts >>"$log" 2>&1 &
  local driver=$! pc="" pd=""
  # The orchestrator's part: a replacement as soon as a worker is lost (the
  # SIGKILLed one's on its probe port, once it is gone).
  if wait_marker "$ctl/sigterm-sent" "$driver"; then
    start_container "$p" "$n-worker-c" "$RUNS_WORKER_C_PORT" "$log" ROLE=worker "${envs[@]}" >/dev/null &
    pc=$!
  fi
  if wait_marker "$ctl/sigkill-sent" "$driver"; then
    timeout 20 $ENGINE wait "$n-worker-b" >/dev/null 2>&1 || true
    start_container "$p" "$n-worker-d" "$RUNS_WORKER_B_PORT" "$log" ROLE=worker "${envs[@]}" >/dev/null &
    pd=$!
  fi
  wait "$driver" || rc=1
  [[ -z $pc ]] || wait "$pc" || { echo "  the SIGTERMed worker's replacement did not start"; rc=1; }
  [[ -z $pd ]] || wait "$pd" || { echo "  the SIGKILLed worker's replacement did not start"; rc=1; }
  grep -E '^(PASS|FAIL) |passed, |^figures: |^runs: ' "$log" | sed 's/^/  /'
  for r in api worker-a worker-b worker-c worker-d; do
    save_logs "$p" "$n-$r"
    remove_container "$n-$r"
  done
  ((rc)) && echo "  containers' logs: $OUT/logs/$p/container-$n-*.log"
  return $rc
}

# eval: the generated project's own `make eval` (evals/, pytest over HTTP) against the
# hardened container with the fake model: every golden and red-team case passes and
# the gate passes. Then a container whose fake model misbehaves on purpose
# (FAKE_LLM_MISBEHAVE=leak_secret,unoffered_tool): the gate must fail, naming the
# leaked key and the unoffered tool. The runner gets the container's API keys in its
# environment, as a staging run would, so it can look for them in every answer.
stage_eval() {
  local p=$1 log=$2
  local work="$OUT/work/$p"
  work_copy "$p" "$log" || return 1
  local name="$CAS-$p-eval" dir
  dir="$(frag "$p")/eval"
  rm -rf "$dir" "$dir-misbehave"
  mkdir -p "$dir" "$dir-misbehave"
  # make eval as its README says, with the real uv first on PATH (see UV above).
  run_eval() { # OUT_DIR: make eval against the running eval container
    (cd "$work" && PATH="$(dirname "$UV"):$PATH" UV_FROZEN=1 EVAL_BASE_URL="$(base_url_for "$EVAL_PORT")" \
      EVAL_API_KEY=$API_KEY API_KEYS="$API_KEY,$SECOND_KEY" EVAL_MODEL=fake EVAL_OUT_DIR="$1" \
      NO_COLOR=1 make eval) >>"$log" 2>&1
  }
  local rc=0 t
  t=$(now)
  start_container "$p" "$name" "$EVAL_PORT" "$log" "API_KEYS=$API_KEY,$SECOND_KEY" >/dev/null || return 1
  run_eval "$dir" || rc=1
  cp "$work/evals/out/junit.xml" "$dir/" 2>/dev/null || true
  save_logs "$p" "$name"
  remove_container "$name"
  node scripts/pipeline/eval-check.mjs shipped "$dir/report.json" || rc=1
  local shipped_s
  shipped_s=$(since "$t")
  # The gate must be able to fail: the same run against a misbehaving fake model.
  t=$(now)
  start_container "$p" "$name" "$EVAL_PORT" "$log" "API_KEYS=$API_KEY,$SECOND_KEY" \
    "FAKE_LLM_MISBEHAVE=leak_secret,unoffered_tool" >/dev/null || return 1
  local misbehave_rc=0
  run_eval "$dir-misbehave" || misbehave_rc=$?
  cp "$work/evals/out/junit.xml" "$dir-misbehave/" 2>/dev/null || true
  $ENGINE logs "$name" >"$OUT/logs/$p/container-$name-misbehave.log" 2>&1 || true
  remove_container "$name"
  if ! node scripts/pipeline/eval-check.mjs misbehaving "$dir-misbehave/report.json" "$misbehave_rc" "$API_KEY" "$SECOND_KEY"; then
    echo "  the misbehaving run did not fail the gate as it must (log: $log)"
    rc=1
  fi
  node scripts/pipeline/eval-check.mjs figures "$dir/report.json" "$dir-misbehave/report.json" \
    "$misbehave_rc" "$shipped_s" "$(since "$t")" "$(frag "$p")/eval.json"
  return $rc
}

# faults: the hardened container under attack, test/faults/*.test.ts (one file per
# concern): a misbehaving OpenAI-compatible upstream (test/faults/lib/upstream.ts,
# on loopback, the container's LLM_BASE_URL), and for Redis/Postgres the store
# killed and restarted under load. The store is the stage's own durable instance
# (SERVICES_DURABLE=1 on PORT_BASE+79 / +32), never the shared one other runs use.
stage_faults() {
  local p=$1 log=$2
  local name="$CAS-$p-faults" store rc=0
  store=$(answer "$p" store)
  mkdir -p "$(frag "$p")"
  rm -f "$(frag "$p")"/faults-*.json
  (
    export REDIS_PORT=$((PORT_BASE + 79)) PG_PORT=$((PORT_BASE + 32))
    export SERVICES_DIR="${TMPDIR:-/tmp}/$CAS-faults-services" SERVICES_DURABLE=1
    if [[ $store == redis || $store == postgres ]]; then
      scripts/services.sh stop "$store" >>"$log" 2>&1 # a fresh, durable instance
      if scripts/services.sh status 2>/dev/null | grep -q "^$store: up"; then
        echo "  a $store this stage did not start holds its port ($REDIS_PORT / $PG_PORT): it would not be killed"
        exit 1
      fi
    fi
    trap '[[ $store == memory ]] || scripts/services.sh stop "$store" >>"$log" 2>&1' EXIT
    CONTAINER_HOST_NETWORK=1 start_container "$p" "$name" "$FAULTS_PORT" "$log" "API_KEYS=$API_KEY" \
      "LLM_BASE_URL=http://127.0.0.1:$FAULTS_UPSTREAM_PORT/v1" "LLM_API_KEY=faults-upstream-key" \
      "LLM_TIMEOUT=3" "LLM_MAX_RETRIES=1" "REQUEST_TIMEOUT=10" "AGENT_MAX_STEPS=4" \
      "SESSION_MAX_MESSAGES=400" "STORE_TIMEOUT=2" >/dev/null || exit 1
    FAULTS_BASE_URL=$(base_url_for "$FAULTS_PORT") FAULTS_API_KEY=$API_KEY FAULTS_CONTAINER=$name \
      FAULTS_ENGINE=$ENGINE FAULTS_UPSTREAM_PORT=$FAULTS_UPSTREAM_PORT FAULTS_STORE=$store \
      FAULTS_REPORT_DIR="$(frag "$p")" \
      run_logged "$log" env NO_COLOR=1 npx vitest run --project faults --reporter=default --reporter=json \
      --outputFile.json="$(frag "$p")/faults.json" || rc=1
    save_logs "$p" "$name"
    remove_container "$name"
    exit $rc
  ) || rc=1
  grep -E 'Test Files|Tests ' "$log" | tail -n 2 | sed 's/^/  /'
  node scripts/pipeline/report.mjs "$OUT" --faults "$p" | sed 's/^/  /' || true

  # Connection level (test/faults/connection.ts): a hostile client with no key
  # against a fresh hardened container, the connection bounds at their defaults;
  # the last attack SIGTERMs the container.
  local cname="$CAS-$p-faults-conn"
  start_container "$p" "$cname" "$FAULTS_PORT" "$log" >/dev/null || return 1
  FAULT_BASE_URL=$(base_url_for "$FAULTS_PORT") FAULT_CONTAINER=$cname FAULT_ENGINE=$ENGINE \
    FAULT_REPORT="$(frag "$p")/connection-faults.json" \
    run_logged "$log" timeout 150 npx tsx test/faults/connection.ts || rc=1
  grep -E '^(PASS|FAIL) |passed, ' "$log" | sed 's/^/  /'
  save_logs "$p" "$cname"
  remove_container "$cname"
  return $rc
}

stage_report() {
  local p=$1 log=$2
  run_logged "$log" node scripts/pipeline/report.mjs "$OUT" "$p" || return 1
  echo "  wrote $OUT/report/$p.json"
}

# --------------------------------------------------------------------- main --
echo "pipeline: presets: ${presets[*]}"
echo "pipeline: stages: ${stages[*]}"
if ((needs_containers)); then
  list="${!container_preset[*]}"
  echo "pipeline: container stages for: ${list:-none} (--containers $containers)"
fi

if ((needs_node_build)); then
  hr "="
  echo "== setup: npm run build"
  npm run build --silent >/dev/null
fi

services_before=$(scripts/services.sh status 2>/dev/null || true)
cleanup() {
  # Stop the stores this run started (not ones that were up before it).
  [[ $services_before == *"redis: down"* ]] && scripts/services.sh stop redis 2>/dev/null
  [[ $services_before == *"postgres: down"* ]] && scripts/services.sh stop postgres 2>/dev/null
  for p in "${presets[@]}"; do
    ((keep)) || remove_container "$CAS-$p"
    remove_container "$CAS-$p-variant"
    remove_container "$CAS-$p-drain"
    remove_container "$CAS-$p-browser"
    remove_container "$CAS-$p-eval"
    remove_container "$CAS-$p-faults-conn"
    remove_container "$CAS-$p-faults"
    remove_container "$CAS-$p-mcp"
    for r in api worker-a worker-b worker-c worker-d migrate; do remove_container "$CAS-$p-runs-$r"; done
  done
}
trap cleanup EXIT

# A failed generate or build leaves nothing to test: the preset's later stages are
# skipped (its report is still written). Any other failed stage is recorded and the
# next stages still run, so one run shows every problem.
total_t=$(now)
for p in "${presets[@]}"; do
  mkdir -p "$OUT/logs/$p" "$(frag "$p")"
  stage_file="$(frag "$p")/stages.tsv"
  : >"$stage_file" # only this run's stages go into the table
  blocked=""
  for s in "${stages[@]}"; do
    if [[ $CONTAINER_STAGES == *" $s "* && -z ${container_preset[$p]:-} ]]; then
      continue
    fi
    if [[ -n $blocked && $s != report ]]; then
      printf '%s\tskipped\t0\n' "$s" >>"$stage_file"
      continue
    fi
    hr
    echo "== [$p] stage $s"
    log="$OUT/logs/$p/$s.log"
    : >"$log"
    t=$(now)
    if "stage_$s" "$p" "$log"; then
      d=$(since "$t")
      printf '%s\tok\t%s\n' "$s" "$d" >>"$stage_file"
      echo "== [$p] stage $s: ok in $d s"
    else
      d=$(since "$t")
      printf '%s\tfailed\t%s\n' "$s" "$d" >>"$stage_file"
      echo "== [$p] stage $s: FAILED after $d s (preset $p; log: $log)"
      failures+=("$p:$s")
      ((fail_fast)) && break 2
      [[ $s == generate || $s == build ]] && blocked=$s
    fi
  done
  [[ " ${stages[*]} " == *" report "* ]] || node scripts/pipeline/report.mjs "$OUT" "$p" >/dev/null 2>&1 || true
done

hr "="
if [[ " ${stages[*]} " == *" report "* ]]; then
  node scripts/pipeline/report.mjs "$OUT" --summary "${presets[@]}" || failures+=("report:summary")
fi
echo "pipeline: $(since "$total_t") s in all"
# The plain closing line: stages passed and failed over every preset of this run.
n_ok=0
n_failed=0
for p in "${presets[@]}"; do
  f="$(frag "$p")/stages.tsv"
  [[ -f $f ]] || continue
  n_ok=$((n_ok + $(awk -F'\t' '$2 == "ok"' "$f" | wc -l)))
  n_failed=$((n_failed + $(awk -F'\t' '$2 == "failed"' "$f" | wc -l)))
done
echo "stages: $n_ok passed, $n_failed failed"
if ((${#failures[@]})); then
  for f in "${failures[@]}"; do echo "pipeline: FAILED stage ${f#*:} of preset ${f%%:*}"; done
  exit 1
fi
echo "pipeline: every stage passed for ${presets[*]}"
