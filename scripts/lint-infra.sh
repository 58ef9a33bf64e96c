#!/usr/bin/env bash
# Lint the infrastructure files of one generated project with the real tool
# of each format. Prints one line per check, PASS or FAIL (with the tool's
# output under a FAIL), and exits non-zero if any check failed.
#
#   bash scripts/lint-infra.sh DIR
#
# Tools come from scripts/install-lint-tools.sh (run it first; it is
# idempotent), or from PATH when LINT_TOOLS_BIN is set to "path".
#
#   Dockerfile            hadolint, zero findings at any level (--failure-threshold style)
#   compose.yaml          check-jsonschema against the compose-spec schema it vendors
#   .github/workflows     actionlint (with shellcheck on run: blocks)
#   .gitlab-ci.yml        check-jsonschema against the GitLab CI schema it vendors
#   deploy/k8s            kubectl kustomize on base and each overlay; every rendered
#                         object validated offline by kubernetes-validate --strict
#                         against Kubernetes $K8S_VERSION; checkov (best-practice and
#                         security checks) with zero findings, suppressions only in place
#                         (checkov.io/skip annotations that carry the reason)
#   Dockerfile, workflows checkov's Dockerfile and GitHub Actions checks
#   dependabot.yml,       check-jsonschema against the Dependabot / Renovate schemas
#   renovate.json
#   scripts/*.sh          shellcheck (the shipped deploy script)
#   deploy/k8s/components each component rendered on top of the prod overlay
#
# Environment: K8S_VERSION (default 1.33.0), LINT_TOOLS_BIN, VERBOSE=1 (show
# output of passing checks too).
set -uo pipefail

if [[ $# -ne 1 || ! -d "$1" ]]; then
  echo "usage: $0 GENERATED_PROJECT_DIR" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$(cd "$1" && pwd)"
K8S_VERSION="${K8S_VERSION:-1.33.0}"

if [[ "${LINT_TOOLS_BIN:-}" != "path" ]]; then
  bin="${LINT_TOOLS_BIN:-$(bash "$root/scripts/install-lint-tools.sh" --print-bin)}"
  export PATH="$bin:$PATH"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failures=0
checks=0

# check NAME COMMAND...: run COMMAND in the project directory, report PASS/FAIL.
check() {
  local name="$1"
  shift
  local log="$work/log.$checks"
  checks=$((checks + 1))
  if (cd "$project" && "$@") >"$log" 2>&1; then
    printf 'PASS  %s\n' "$name"
    if [[ "${VERBOSE:-}" == "1" ]]; then sed 's/^/      /' "$log"; fi
  else
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$log" | head -n 200
    failures=$((failures + 1))
  fi
}

# missing TOOL NAME: report a check as failed because its tool is not installed.
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    printf 'FAIL  %s (tool %s not found: run scripts/install-lint-tools.sh)\n' "$2" "$1"
    failures=$((failures + 1))
    checks=$((checks + 1))
    return 1
  fi
}

# ------------------------------------------------------------------ Dockerfile
if [[ -f "$project/Dockerfile" ]]; then
  need hadolint "hadolint Dockerfile" &&
    check "hadolint Dockerfile (zero findings)" hadolint --failure-threshold style --no-color Dockerfile
fi

# ---------------------------------------------------------------------- compose
for f in compose.yaml compose.yml docker-compose.yaml docker-compose.yml; do
  if [[ -f "$project/$f" ]]; then
    need check-jsonschema "compose-spec $f" &&
      check "compose-spec schema $f" check-jsonschema --builtin-schema vendor.compose-spec "$f"
  fi
done

# ---------------------------------------------------------------- GitHub Actions
if [[ -d "$project/.github/workflows" ]]; then
  if need actionlint "actionlint"; then
    command -v shellcheck >/dev/null 2>&1 || echo "note: shellcheck not found; actionlint skips run: scripts"
    shopt -s nullglob
    workflows=("$project"/.github/workflows/*.yml "$project"/.github/workflows/*.yaml)
    shopt -u nullglob
    # files given explicitly: the generated project need not be a git repository yet
    check "actionlint .github/workflows (zero findings)" actionlint -no-color "${workflows[@]}"
  fi
fi

# ------------------------------------------------- Dependabot / Renovate config
if [[ -f "$project/.github/dependabot.yml" ]]; then
  need check-jsonschema "dependabot schema" &&
    check "dependabot schema .github/dependabot.yml" check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
fi
if [[ -f "$project/renovate.json" ]]; then
  need check-jsonschema "renovate schema" &&
    check "renovate schema renovate.json" check-jsonschema --builtin-schema vendor.renovate renovate.json
fi

# ------------------------------------------------------------- shipped scripts
shopt -s nullglob
scripts=("$project"/scripts/*.sh)
shopt -u nullglob
if [[ ${#scripts[@]} -gt 0 ]] && need shellcheck "shellcheck scripts"; then
  check "shellcheck scripts/*.sh (zero findings)" shellcheck --severity=style "${scripts[@]}"
fi

# -------------------------------------------------------------------- GitLab CI
if [[ -f "$project/.gitlab-ci.yml" ]]; then
  need check-jsonschema "gitlab-ci schema" &&
    check "gitlab-ci schema .gitlab-ci.yml" check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
fi

# ------------------------------------------------------------------- Kubernetes
k8s="$project/deploy/k8s"
if [[ -d "$k8s" ]]; then
  # kustomize needs the untracked secrets.env that the secretGenerator reads:
  # render from a scratch copy where it is made from secrets.env.example.
  cp -r "$k8s" "$work/k8s"
  while IFS= read -r example; do
    target="${example%.example}"
    [[ -f "$target" ]] || cp "$example" "$target"
  done < <(find "$work/k8s" -name '*.env.example')

  mkdir -p "$work/rendered"
  if need kubectl "kubectl kustomize"; then
    targets=()
    [[ -f "$work/k8s/base/kustomization.yaml" ]] && targets+=("base")
    for overlay in "$work"/k8s/overlays/*/; do
      [[ -f "$overlay/kustomization.yaml" ]] && targets+=("overlays/$(basename "$overlay")")
    done
    for t in "${targets[@]}"; do
      # the base alone is checked for rendering only; overlays are what gets deployed
      if [[ $t == base ]]; then out="$work/base.yaml"; else out="$work/rendered/${t//\//-}.yaml"; fi
      check "kubectl kustomize deploy/k8s/$t" sh -c 'kubectl kustomize "$1" >"$2"' _ "$work/k8s/$t" "$out"
      [[ -s "$out" ]] || rm -f "$out"
    done
    # optional components (e.g. external-secret): rendered on top of the prod
    # overlay, as a user enables them; their custom resources have no schema in
    # kubernetes-validate, so rendering is the check
    for component in "$work"/k8s/components/*/; do
      [[ -f "$component/kustomization.yaml" && -f "$work/k8s/overlays/prod/kustomization.yaml" ]] || continue
      c="$(basename "$component")"
      variant="$work/k8s/overlays/prod-with-$c"
      cp -r "$work/k8s/overlays/prod" "$variant"
      printf '\ncomponents:\n  - ../../components/%s\n' "$c" >>"$variant/kustomization.yaml"
      check "kubectl kustomize deploy/k8s/overlays/prod + components/$c" sh -c 'kubectl kustomize "$1" >/dev/null' _ "$variant"
    done
  fi

  shopt -s nullglob
  rendered=("$work"/rendered/overlays-*.yaml)
  shopt -u nullglob
  if [[ ${#rendered[@]} -gt 0 ]]; then
    if need kubernetes-validate "kubernetes-validate"; then
      for r in "${rendered[@]}"; do
        name="$(basename "$r" .yaml)"
        check "kubernetes-validate --strict k8s $K8S_VERSION (${name#overlays-})" \
          kubernetes-validate --strict --quiet --kubernetes-version "$K8S_VERSION" "$r"
      done
    fi
    if need checkov "checkov kubernetes"; then
      check "checkov kubernetes (all overlays, zero findings)" \
        checkov --quiet --compact --skip-download --framework kubernetes -d "$work/rendered"
    fi
  fi
fi

if [[ -f "$project/Dockerfile" || -d "$project/.github/workflows" ]] && need checkov "checkov dockerfile, github_actions"; then
  check "checkov dockerfile + github_actions (zero findings)" \
    checkov --quiet --compact --skip-download --framework dockerfile github_actions -d .
fi

echo "lint-infra: $((checks - failures))/$checks checks passed in $project"
[[ $failures -eq 0 ]]
