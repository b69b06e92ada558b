#!/usr/bin/env bash
# ensure-redis.sh [PORT]: a Redis for the tests on 127.0.0.1:PORT (default 6379), which `make test` (and so
# .ci/run) calls first. If one answers PING there, nothing is done. Else redis-server is started in the
# background: no persistence, bound to loopback, working directory /tmp/aexy-test-redis-PORT; it keeps
# running after the tests, so the next `make test` finds it. Without redis-server, one line says that the
# Redis tests will fail and how to install it, and the tests run anyway.
set -euo pipefail
port="${1:-6379}"
dir="/tmp/aexy-test-redis-$port"

answers() {
  # A PING in bash itself (/dev/tcp), so a server is found even where redis-cli is not installed.
  local reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 1 reply <&3 || true
  exec 3>&-
  [[ $reply == +PONG* ]]
}

answers && exit 0
if ! command -v redis-server >/dev/null; then
  echo "no Redis answers on 127.0.0.1:$port and redis-server is not installed: the Redis tests will fail" \
    "(install it: apt-get install redis-server on Debian/Ubuntu, brew install redis on macOS)" >&2
  exit 0
fi
echo "starting redis-server on 127.0.0.1:$port (log $dir/redis.log)"
mkdir -p "$dir"
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$dir" --logfile "$dir/redis.log"
for _ in $(seq 1 50); do
  answers && exit 0
  sleep 0.1
done
echo "redis-server on 127.0.0.1:$port did not answer within 5 s; see $dir/redis.log" >&2
exit 1
