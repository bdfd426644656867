#!/usr/bin/env bash
# bench/metrics.sh: the cost of --metrics. HelloHttp on a 2-worker cluster under wrk, with metrics off
# and on, alternating in the same run (ROUNDS pairs), then a scrape of the endpoint. Loopback only.
#
#   bench/metrics.sh                      # 10 s per run, 2 rounds
#   DURATION=5 ROUNDS=3 bench/metrics.sh
#
# Needs: java 17+, wrk, the samples jar and the CLI jar (bin/cluster builds it when missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/samples/target/kcluster-samples.jar"
duration="${DURATION:-10}"
rounds="${ROUNDS:-2}"
conns="${CONNS:-64}"
port="${PORT:-18090}"
mport="${METRICS_PORT:-19490}"
tmp="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "bench/metrics.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
[ -f "$jar" ] || (cd "$root" && mvn -B -q -pl samples -am -DskipTests package)

run() { # $1: off|on
  local extra=()
  [ "$1" = on ] && extra=(--metrics "127.0.0.1:$mport")
  "$root/bin/cluster" run -w 2 --pid-file "$tmp/c.pid" "${extra[@]}" "$jar" --port "$port" >"$tmp/log" 2>&1 &
  pid=$!
  for _ in $(seq 120); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.5; done
  wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$port/" >/dev/null   # warm-up
  local rps
  rps=$(wrk -t2 -c"$conns" -d"${duration}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
  if [ "$1" = on ]; then
    curl -sf "http://127.0.0.1:$mport/metrics" | wc -c >"$tmp/scrape_bytes"
    curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$mport/metrics" | awk '{printf "%.1f", $1*1000}' >"$tmp/scrape_ms"
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "$rps"
}

printf '%-6s %-8s %12s\n' round metrics req/s
for r in $(seq "$rounds"); do
  for m in off on; do
    v=$(run "$m")
    printf '%-6s %-8s %12s\n' "$r" "$m" "$v"
    echo "$m $v" >>"$tmp/all"
  done
done
awk '{s[$1]+=$2; n[$1]++} END {off=s["off"]/n["off"]; on=s["on"]/n["on"]; printf "mean   off      %12.0f\nmean   on       %12.0f\noverhead        %11.1f%%\n", off, on, (off-on)/off*100}' "$tmp/all"
echo "last scrape: $(cat "$tmp/scrape_bytes") bytes in $(cat "$tmp/scrape_ms") ms"
