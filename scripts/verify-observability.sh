#!/usr/bin/env bash
# Verify a generated project's observability stack against real tools.
#   scripts/verify-observability.sh PROJECT_DIR [BASE_URL]
# (a) promtool check config / check rules on the generated Prometheus files;
# then the vitest project `observability` (test/observability):
#   static checks of every stack (promtool test rules, dashboard, collector, compose),
#   prometheus preset: Debian's Prometheus scrapes the running service (PromQL per
#     contract metric, every rule evaluates, dashboard/rule metric names vs a real
#     scrape, 1,000 random paths do not grow the series count, one background run
#     counted where it executed: in-process, or with a shared store by a ROLE=worker
#     process on the check's own queue, scraped on its probe listener),
#   otel preset: a test OTLP/HTTP receiver gets the request span, GenAI child spans,
#     the contract metrics; X-Trace-Id = spans = log lines; bounded labels; a run's
#     span linked to the request that queued it (a ROLE=worker process with a shared store).
# Without BASE_URL the tests start the service as a process (`python -m <pkg>` from the
# project's .venv, made with `uv sync --frozen` when missing): two workers with the
# project's shared store when its REDIS_URL / DATABASE_URL is set, else one (the
# memory store runs exactly one); OBS_WORKERS sets the count.
# With BASE_URL (e.g. a container) they use it; for otel the service must export to
# http://<this host>:$((OBS_PORT_BASE+40)) (OTEL_EXPORTER_OTLP_ENDPOINT), and log
# lines are not checked.
# OBS_VITEST_JSON=FILE also writes vitest's JSON report to FILE.
# Ports: OBS_PORT_BASE (18200): service +10, run worker +15 (shared store), Prometheus +20, OTLP receiver +40.
set -euo pipefail

usage() { echo "usage: $0 PROJECT_DIR [BASE_URL]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
PROJECT_DIR=$(cd "$1" && pwd) || usage
BASE_URL="${2:-}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[verify-observability] %s\n' "$*" >&2; }

[[ -f $PROJECT_DIR/.agent-service.json ]] || { echo "$PROJECT_DIR: no .agent-service.json (not a generated project)" >&2; exit 2; }
OBS=$(node -e 'const d=require(process.argv[1]); process.stdout.write((d.answers ?? d).observability)' "$PROJECT_DIR/.agent-service.json")
log "project $PROJECT_DIR, observability=$OBS${BASE_URL:+, service at $BASE_URL}"

command -v promtool >/dev/null || { echo "promtool is missing (apt-get install prometheus)" >&2; exit 1; }

# (a) the generated Prometheus files, with promtool
if [[ -f $PROJECT_DIR/deploy/prometheus/prometheus.yml ]]; then
  # --syntax-only: the rule_files paths are the container's (/etc/prometheus/rules)
  promtool check config --syntax-only "$PROJECT_DIR/deploy/prometheus/prometheus.yml"
fi
shopt -s nullglob
rules=("$PROJECT_DIR"/deploy/prometheus/rules/*.yml "$PROJECT_DIR"/deploy/prometheus/rules/*.yaml)
if ((${#rules[@]})); then
  promtool check rules "${rules[@]}"
fi
if [[ $OBS == prometheus && ${#rules[@]} -eq 0 ]]; then
  echo "observability=prometheus but no deploy/prometheus/rules/*.yml" >&2
  exit 1
fi

# the live tests need the project's environment when they start the service
if [[ -z $BASE_URL && $OBS != minimal && ! -x $PROJECT_DIR/.venv/bin/python ]]; then
  log "uv sync --frozen in $PROJECT_DIR"
  # resolve uv outside the project: a pyenv shim would follow the project's .python-version
  UV_BIN=${UV_BIN:-$(cd / && { pyenv which uv 2>/dev/null || command -v uv; })}
  (cd "$PROJECT_DIR" && UV_PYTHON="${UV_PYTHON:-3.11}" "$UV_BIN" sync --frozen)
fi

cd "$ROOT"
reporters=()
# OBS_VITEST_JSON=FILE: also write vitest's JSON report there (scripts/pipeline.sh)
[[ -n ${OBS_VITEST_JSON:-} ]] && reporters=(--reporter=default --reporter=json "--outputFile.json=$OBS_VITEST_JSON")
OBS_PROJECT_DIR="$PROJECT_DIR" OBS_BASE_URL="$BASE_URL" \
  npx vitest run --project observability "${reporters[@]}"
