#!/usr/bin/env bash
# Make the base images the generated Dockerfiles build FROM, locally, without
# a registry (see DESIGN.md "Containers on these machines"):
#   localhost/python-base:bookworm  debootstrap minbase + python3 (3.11), python3-venv, ca-certificates
#   localhost/python-base:trixie    the same from Debian 13 (python3 is 3.13)
#   localhost/uv:local              only the uv and uvx binaries, at /uv and /uvx (from PyPI's uv wheel)
# The debootstrap tarballs and the uv wheel are cached under ./.cache/base-images;
# images that already exist are kept. Run as root after scripts/podman-setup.sh.
#   scripts/make-base-images.sh            # make what is missing
#   FORCE=1 scripts/make-base-images.sh    # remake every image (the cache is still used)
#   SUITES=bookworm scripts/make-base-images.sh   # only these Debian suites
# Prints nothing but progress. scripts/pipeline.sh passes the base that matches a
# preset's python (3.13: trixie; else bookworm) as --build-arg PYTHON_IMAGE=...,
# and UV_IMAGE as --build-arg UV_IMAGE=....
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="${BASE_IMAGES_CACHE:-$root/.cache/base-images}"
UV_IMAGE="${UV_IMAGE:-localhost/uv:local}"
SUITES="${SUITES:-bookworm trixie}"
# Take the mirror apt already uses (a bare CI machine has deb.debian.org).
MIRROR="${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
# uv version: the one on PATH (the one that wrote the locks), else PyPI's latest.
UV_VERSION="${UV_VERSION:-$(uv --version 2>/dev/null | awk '{print $2}' || true)}"
PACKAGES=python3,python3-venv,python-is-python3,ca-certificates

log() { printf '[base-images] %s\n' "$*"; }
have_image() { podman image exists "$1"; }

mkdir -p "$cache"

# --- python base ---------------------------------------------------------
# make_python_base SUITE: localhost/python-base:SUITE
make_python_base() {
  local SUITE=$1
  local PYTHON_IMAGE="localhost/python-base:$SUITE"
  local tarball="$cache/python-base-$SUITE.tar"
  if [[ ! -s $tarball ]]; then
    command -v debootstrap >/dev/null || { echo "make-base-images: debootstrap missing (run scripts/podman-setup.sh)" >&2; exit 1; }
    local dir
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    log "debootstrap --variant=minbase $SUITE from $MIRROR (about a minute)"
    local t0=$SECONDS
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$cache/debootstrap-$SUITE.log" 2>&1 || {
      tail -n 30 "$cache/debootstrap-$SUITE.log" >&2
      rm -rf "$dir"
      echo "make-base-images: debootstrap $SUITE failed (log: $cache/debootstrap-$SUITE.log)" >&2
      exit 1
    }
    # Slim it: apt lists and caches, docs, man pages, logs are not needed at run time.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/cache/debconf/*-old \
      "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/*
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
    log "rootfs cached: $tarball ($(du -h "$tarball" | cut -f1), $((SECONDS - t0)) s)"
  else
    log "rootfs from cache: $tarball"
  fi
  podman import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$tarball" "$PYTHON_IMAGE-rootfs" >/dev/null
  # Trust what this machine trusts: where HTTPS goes through an inspecting proxy
  # (its CA in the host's bundle), uv in the builder stage must accept it too.
  # SSL_CERT_FILE makes uv (which otherwise uses its own roots) read the bundle.
  local ca="${BASE_IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
  local ctx
  ctx=$(mktemp -d "$cache/ctx.XXXXXX")
  if [[ -s $ca ]]; then
    cp "$ca" "$ctx/ca-certificates.crt"
    printf 'FROM %s\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n' \
      "$PYTHON_IMAGE-rootfs" >"$ctx/Containerfile"
  else
    printf 'FROM %s\nENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n' "$PYTHON_IMAGE-rootfs" >"$ctx/Containerfile"
  fi
  podman build -q --no-cache -t "$PYTHON_IMAGE" -f "$ctx/Containerfile" "$ctx" >/dev/null
  podman rmi "$PYTHON_IMAGE-rootfs" >/dev/null 2>&1 || true
  rm -rf "$ctx"
  log "made $PYTHON_IMAGE ($(podman run --rm "$PYTHON_IMAGE" python3 --version 2>&1), CA bundle from ${ca})"
}

# --- uv ------------------------------------------------------------------
make_uv() {
  local wheels="$cache/uv-wheel"
  local spec=uv
  [[ -n $UV_VERSION ]] && spec="uv==$UV_VERSION"
  local whl
  whl=$(ls "$wheels"/uv-"${UV_VERSION:-}"*manylinux*x86_64*.whl 2>/dev/null | head -n1 || true)
  if [[ -z $whl ]]; then
    log "downloading the $spec wheel from PyPI"
    local py
    py=$(command -v python3 || command -v python)
    "$py" -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3.11 -d "$wheels" "$spec"
    whl=$(ls "$wheels"/uv-*manylinux*x86_64*.whl | head -n1)
  fi
  local dir
  dir=$(mktemp -d "$cache/uv.XXXXXX")
  python3 - "$whl" "$dir" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if "/scripts/" in name and base in ("uv", "uvx"):
            with open(os.path.join(out, base), "wb") as f:
                f.write(z.read(name))
            os.chmod(os.path.join(out, base), 0o755)
missing = [b for b in ("uv", "uvx") if not os.path.exists(os.path.join(out, b))]
if missing:
    sys.exit(f"no {missing} in {whl}")
PY
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$dir.tar" uv uvx
  podman import -q --change 'ENTRYPOINT ["/uv"]' "$dir.tar" "$UV_IMAGE" >/dev/null
  rm -rf "$dir" "$dir.tar"
  log "imported $UV_IMAGE from $(basename "$whl")"
}

for suite in $SUITES; do
  if [[ -z ${FORCE:-} ]] && have_image "localhost/python-base:$suite"; then
    log "localhost/python-base:$suite exists"
  else
    make_python_base "$suite"
  fi
done
if [[ -z ${FORCE:-} ]] && have_image "$UV_IMAGE"; then
  log "$UV_IMAGE exists"
else
  make_uv
fi
