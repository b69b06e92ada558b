#!/usr/bin/env bash
# install-system-packages.sh: the system packages the tests need, installed with apt-get when missing
# (CI runs as root on a fresh Debian machine). Today: redis-server (scripts/ensure-redis.sh starts it).
# Elsewhere (no apt-get, or not root) it names what is missing and goes on: the tests say the rest.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null || [[ $(id -u) -ne 0 ]]; then
  echo "missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 0
fi
echo "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
