#!/usr/bin/env bash
# Makes a local Debian 12 base image for deploy/Dockerfile where no container registry is
# reachable: debootstrap (minbase, from the Debian mirror apt uses) + `podman import`.
# The root filesystem tarball is cached (default ~/.cache/sluice/), so the second call only
# imports it; an image that already exists is left alone.
#
#   scripts/base-image.sh [IMAGE]          default IMAGE: localhost/sluice-base:bookworm
#   SLUICE_BASE_REBUILD=1 scripts/base-image.sh   ignore the cached tarball and the image
#
# Environment: SLUICE_CACHE_DIR (cache, default ~/.cache/sluice), DEBIAN_MIRROR (default
# http://deb.debian.org/debian), CONTAINER_TOOL (podman, or docker). Needs root (debootstrap).
set -euo pipefail

image="${1:-localhost/sluice-base:bookworm}"
cache="${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
tool="${CONTAINER_TOOL:-$(command -v podman >/dev/null && echo podman || echo docker)}"
tarball="$cache/base-bookworm-minbase.tar"

if [ -z "${SLUICE_BASE_REBUILD:-}" ] && $tool image inspect "$image" > /dev/null 2>&1; then
  echo "base-image: $image exists"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "base-image: debootstrap needs root" >&2
  exit 2
fi

mkdir -p "$cache"
if [ -n "${SLUICE_BASE_REBUILD:-}" ] || [ ! -s "$tarball" ]; then
  root="$(mktemp -d "$cache/rootfs.XXXXXX")"
  trap 'rm -rf --one-file-system "$root"' EXIT
  # Debs come from (and stay in) the host's apt cache when it has them.
  debs=/var/cache/apt/archives
  echo "base-image: debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase --cache-dir="$debs" bookworm "$root" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # The same suites as a Debian 12 host (point releases and security updates), so the build
  # stage gets the same compiler and headers as the host build and shares its ccache.
  cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
  # Small layers: no recommends, no docs, no package lists left in the image.
  cat > "$root/etc/apt/apt.conf.d/90sluice" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT
  cat > "$root/etc/dpkg/dpkg.cfg.d/90sluice-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
  # What debian:bookworm-slim leaves out too: documentation, manual pages, translations.
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
    "$root"/var/lib/dpkg/*-old "$root"/var/log/*.log "$root"/var/log/apt/*
  find "$root/var/cache/apt/archives" -name '*.deb' -delete
  tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
echo "base-image: importing $tarball as $image"
$tool import --change 'CMD ["/bin/bash"]' "$tarball" "$image" > "$cache/import.log" 2>&1 \
  || { cat "$cache/import.log" >&2; exit 1; }
