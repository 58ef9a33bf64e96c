#!/usr/bin/env bash
# Deploy one pushed image digest to one overlay, check it, and roll back on failure.
#
#   scripts/deploy.sh OVERLAY_DIR IMAGE DIGEST
#   e.g. scripts/deploy.sh deploy/k8s/overlays/prod ghcr.io/acme/lite-agent-with-the-longest-allowed-name sha256:<64 hex>
#
# 1. kustomize edit set image IMAGE=IMAGE@DIGEST (a digest, never a mutable tag)
# 2. kubectl apply -k OVERLAY_DIR
# 3. kubectl rollout status --timeout=ROLLOUT_TIMEOUT
# 4. smoke check through the cluster (kubectl port-forward to the Service):
#    GET /ready is 200, then one POST /v1/chat answers
# On a failure in 3 or 4, if step 2 made a new revision: kubectl rollout undo
# to the revision that ran before, wait for it, and exit 1.
# Only the Deployment is rolled back; ConfigMap changes applied in step 2 stay.
#
# Environment: KUBECONFIG (cluster credentials), ROLLOUT_TIMEOUT (default 300s),
# SMOKE_PORT (local port for the port-forward, default 18080), SMOKE_WAIT
# (seconds to wait for GET /ready to answer, default 20), SMOKE_API_KEY (sent
# as a bearer token when the service has API_KEYS set).
# The namespace (the overlay's `namespace:`) must exist.
set -euo pipefail

deployment=lite-agent-with-the-longest-allowed-name
log() { printf '[deploy] %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

[[ $# -eq 3 ]] || die "usage: $0 OVERLAY_DIR IMAGE DIGEST" 2
overlay=$1 image=$2 digest=$3
[[ -f $overlay/kustomization.yaml ]] || die "$overlay: no kustomization.yaml" 2
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "DIGEST must be sha256:<64 hex digits>, got: $digest" 2
timeout=${ROLLOUT_TIMEOUT:-300s}
port=${SMOKE_PORT:-18080}
wait_ready=${SMOKE_WAIT:-20}
namespace=$(sed -n 's/^namespace: *//p' "$overlay/kustomization.yaml")
[[ -n $namespace ]] || die "$overlay/kustomization.yaml sets no namespace" 2
k() { kubectl --namespace "$namespace" "$@"; }

revision() {
  k get deployment "$deployment" --ignore-not-found \
    --output 'jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}'
}

before=$(revision)
log "namespace $namespace, deployment $deployment, revision before: ${before:-none}"

(cd "$overlay" && kustomize edit set image "$image=$image@$digest")
log "image set to $image@$digest"
k apply -k "$overlay" >&2 || die "kubectl apply failed"
after=$(revision)

rollback() {
  log "FAILED: $1"
  if [[ -z $before ]]; then
    die "first deploy of $deployment: there is no earlier revision to roll back to"
  fi
  if [[ $after == "$before" ]]; then
    die "the apply made no new revision ($before): nothing to roll back"
  fi
  log "rolling back to revision $before"
  k rollout undo "deployment/$deployment" --to-revision="$before" >&2 || die "kubectl rollout undo failed"
  k rollout status "deployment/$deployment" --timeout="$timeout" >&2 || die "the rollback did not complete either"
  die "rolled back to revision $before"
}

k rollout status "deployment/$deployment" --timeout="$timeout" >&2 || rollback "rollout did not complete within $timeout"

smoke() {
  k port-forward "service/$deployment" "$port:80" >/dev/null 2>&1 &
  local forward=$!
  # shellcheck disable=SC2064 # the pid is meant to be expanded now
  trap "kill $forward 2>/dev/null || true" RETURN
  local auth=()
  [[ -n ${SMOKE_API_KEY:-} ]] && auth=(--header "Authorization: Bearer $SMOKE_API_KEY")
  local ready=""
  for _ in $(seq 1 "$wait_ready"); do
    if curl --fail --silent --show-error --max-time 5 "http://127.0.0.1:$port/ready" >/dev/null; then ready=yes; break; fi
    sleep 1
  done
  [[ -n $ready ]] || { log "GET /ready did not answer 200"; return 1; }
  local body
  body=$(curl --fail --silent --show-error --max-time 30 "${auth[@]}" \
    --header 'Content-Type: application/json' --data '{"message": "deploy smoke check"}' \
    "http://127.0.0.1:$port/v1/chat") || { log "POST /v1/chat failed"; return 1; }
  [[ $body == *'"answer"'* ]] || { log "POST /v1/chat: no answer in $body"; return 1; }
}

smoke || rollback "smoke check failed"
log "deployed $image@$digest to $namespace (revision $after)"
