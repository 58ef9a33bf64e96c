#!/usr/bin/env bash
# Set up podman on a bare Debian 12 so it can build and run the generated
# Dockerfiles without a Docker engine or a registry (see DESIGN.md,
# "Containers on these machines"). Idempotent; run as root.
#   scripts/podman-setup.sh
set -euo pipefail

log() { printf '[podman-setup] %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "podman-setup: must run as root (apt-get, /etc/containers)" >&2
  exit 1
fi

need=()
# netavark + iptables: port publishing (only Recommended/Suggested by podman, and we
# install without recommends); catatonit: --init.
for pkg in podman runc debootstrap uidmap slirp4netns fuse-overlayfs netavark aardvark-dns iptables catatonit; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  log "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # podman with its Recommends (the combination DESIGN.md records as working
  # here), the explicit extras without.
  if [[ " ${need[*]} " == *" podman "* ]]; then
    apt-get install -y -qq podman runc >/dev/null
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  log "packages already installed"
fi

# crun fails on the cgroups v1 hybrid hosts we run on: use runc. The default
# nofile/nproc ulimits are refused there too: pass none.
conf=/etc/containers/containers.conf
want='# Written by create-agent-service scripts/podman-setup.sh
[containers]
default_ulimits = []

[engine]
runtime = "runc"
'
mkdir -p /etc/containers
if [[ -f $conf ]] && [[ "$(cat "$conf")" == "$(printf '%s' "$want")" ]]; then
  log "$conf already configured"
else
  if [[ -f $conf ]] && ! grep -q 'create-agent-service' "$conf"; then
    cp "$conf" "$conf.bak"
    log "saved the previous $conf as $conf.bak"
  fi
  printf '%s' "$want" >"$conf"
  log "wrote $conf"
fi

# No registry is reachable: never let a short name trigger a pull prompt.
reg=/etc/containers/registries.conf.d/50-create-agent-service.conf
if [[ ! -f $reg ]]; then
  mkdir -p "$(dirname "$reg")"
  printf 'short-name-mode = "permissive"\n' >"$reg"
  log "wrote $reg"
fi

if ! podman info >/tmp/podman-info.$$ 2>&1; then
  cat /tmp/podman-info.$$ >&2
  rm -f /tmp/podman-info.$$
  echo "podman-setup: 'podman info' failed" >&2
  exit 1
fi
runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || true)
driver=$(podman info --format '{{.Store.GraphDriverName}}' 2>/dev/null || true)
rm -f /tmp/podman-info.$$
log "podman $(podman version --format '{{.Client.Version}}' 2>/dev/null) ready (runtime: ${runtime:-?}, storage: ${driver:-?})"
