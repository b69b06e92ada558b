#!/usr/bin/env bash
# install-system-packages.sh: the system packages the tests need, installed with apt-get when missing
# (CI runs as root on a fresh Debian machine): redis-server (scripts/ensure-redis.sh starts it), and Java
# and Maven for Apache Kafka, whose jars `make kafka` then fetches once from Maven Central; Chromium for
# the dashboard's browser tests (Playwright drives it; no browser is ever downloaded).
# Elsewhere (no apt-get, or not root) it names what is missing and goes on: the tests say the rest.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v chromium >/dev/null || missing+=(chromium)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null || [[ $(id -u) -ne 0 ]]; then
  echo "missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 0
fi
echo "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
