#!/usr/bin/env bash
# bench/http.sh: HelloHttp throughput and latency, standalone vs a 2-worker cluster (shared and
# reuseport sockets, and the watcher's balancer), at 64 and 1000 connections; the request split over the
# workers (X-Worker-Id) at 64 connections and new connections per second with Connection: close clients (with the watcher's and
# its accept thread's CPU during that run);
# then failed requests during two rolling restarts
# under load, and requests lost when one worker is SIGKILLed under load. Loopback only.
#
#   bench/http.sh                 # 10 s per run (about 3 minutes in all)
#   DURATION=5 bench/http.sh      # shorter runs
#   WORKERS=4 THREADS=4 bench/http.sh   # THREADS: wrk threads; SERVER_THREADS=1: one event loop per process
#   CLUSTER_THREADS=1 bench/http.sh     # one event loop per worker, standalone keeps its default
#   MODES="shared balance" bench/http.sh # only these setups (default: standalone shared reuseport balance)
#   CLUSTER_OPTS="--jvm-defaults off" bench/http.sh   # more `cluster` options (A/B of JVM defaults)
#   LOAD_TESTS=0 bench/http.sh          # only the tables, without the restarts and the SIGKILL under load
#
# Needs: java 17+, wrk (installed with apt-get when missing and running as root), the samples jar
# (built with Maven when missing). Clusters run under bin/cluster; a rolling restart is SIGHUP to it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/samples/target/kcluster-samples.jar"
duration="${DURATION:-10}"
workers="${WORKERS:-2}"
threads="${THREADS:-2}"
port="${PORT:-18080}"
server_args=(--port "$port" ${SERVER_THREADS:+--threads "$SERVER_THREADS"})   # SERVER_THREADS: event loops per process
# CLUSTER_THREADS: event loops per worker in the cluster runs (default: as SERVER_THREADS)
cluster_args=(--port "$port" ${CLUSTER_THREADS:+--threads "$CLUSTER_THREADS"})
[ -z "${CLUSTER_THREADS:-}" ] && cluster_args=("${server_args[@]}")
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
opens="--add-opens java.base/sun.nio.ch=ALL-UNNAMED"
tmp="$(mktemp -d)"
pids=()

cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing wrk (apt-get)..." >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    echo "bench/http.sh needs wrk: sudo apt-get install -y wrk" >&2; exit 1
  fi
fi
if [ ! -f "$jar" ]; then
  echo "building $jar ..." >&2
  (cd "$root" && mvn -B -q -pl samples -am package -DskipTests) >&2
fi

modes="${MODES:-standalone shared reuseport balance}"
cat >"$tmp/split.lua" <<'LUA'
-- counts responses per X-Worker-Id; done() prints "split id=n id=n ..."
local threads = {}
function setup(thread) table.insert(threads, thread) end
counts = {}
function response(status, headers, body)
  local id = headers["X-Worker-Id"] or "?"
  counts[id] = (counts[id] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for id, n in pairs(t:get("counts")) do total[id] = (total[id] or 0) + n end
  end
  local line = "split"
  for id, n in pairs(total) do line = line .. " " .. id .. "=" .. n end
  print(line)
end
LUA

# start_server standalone|shared|reuseport|balance: starts HelloHttp on $port, sets $server_pid, waits until it answers.
start_server() {
  local mode="$1"
  if [ "$mode" = standalone ]; then
    "$java" $opens -cp "$jar" dev.kcluster.samples.HelloHttp "${server_args[@]}" >"$tmp/server.log" 2>&1 &
  else
    # shellcheck disable=SC2086 # CLUSTER_OPTS is a list of options
    "$root/bin/cluster" --workers "$workers" --socket-mode "$mode" -p "$tmp/pid" ${CLUSTER_OPTS:-} --classpath "$jar" \
      dev.kcluster.samples.HelloHttp "${cluster_args[@]}" >"$tmp/server.log" 2>&1 &
  fi
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 600); do
    if [ "$mode" != standalone ]; then
      # every worker up: count distinct X-Worker-Id values
      local ids
      ids=$(for _ in $(seq 1 40); do curl -s -D - -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null || true; done |
        tr -d '\r' | awk -F': ' 'tolower($1)=="x-worker-id"{print $2}' | sort -u | wc -l)
      [ "$ids" -ge "$workers" ] && return 0
    elif curl -s -o /dev/null "http://127.0.0.1:$port/"; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "server ($mode) exited:"; cat "$tmp/server.log"; exit 1; }
    sleep 0.2
  done
  echo "server ($mode) did not answer within 120 s" >&2; cat "$tmp/server.log" >&2; exit 1
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  # bin/cluster exec's the JVM, so its pid is the watcher's; workers exit with it.
}

# run_wrk CONNECTIONS SECONDS OUTFILE
run_wrk() {
  local c="$1" d="$2" out="$3" t="$threads"
  [ "$c" -lt "$t" ] && t="$c"
  wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s --latency "http://127.0.0.1:$port/" >"$out" 2>&1 || true
}

rps() { awk '/^Requests\/sec/{printf "%.0f", $2}' "$1"; }
pct() { awk -v p="$2" '$1==p{print $2}' "$1"; }
total() { awk '/requests in/{print $1}' "$1"; }
errors() {
  awk '/Socket errors/{gsub(",","");for(i=1;i<=NF;i++) if($i ~ /^[0-9]+$/) s+=$i} /Non-2xx/{s+=$NF} END{print s+0}' "$1"
}
# ticks PID [THREAD-NAME-PREFIX]: CPU clock ticks (user + system) of PID's threads so far, or of those whose name starts so.
ticks() {
  local sum=0 t name
  for t in /proc/"$1"/task/*; do
    name="$(cat "$t/comm" 2>/dev/null || true)"
    [ -n "${2:-}" ] && [[ "$name" != "$2"* ]] && continue
    # fields 14 and 15 of stat, counted after the ")" that ends the name
    sum=$((sum + $(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$sum"
}
# cpu_pct TICKS-BEFORE TICKS-AFTER SECONDS: percent of one core
cpu_pct() { awk -v a="$1" -v b="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.0f%%", 100*(b-a)/hz/s}'; }
worker_pids() {
  # bin/cluster exec's the JVM, so the watcher is $server_pid either way; workers are its children.
  pgrep -P "$server_pid" -f WorkerMain || true
}
# await_replaced "PIDS": until none of these worker pids is alive (a rolling restart replaced them), 90 s at most.
await_replaced() {
  for _ in $(seq 1 450); do
    local alive=0
    for p in $1; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  echo "  (a rolling restart did not finish within 90 s)"
}

echo "kcluster HelloHttp bench: $(nproc) cores, ${duration}s per run, wrk -t$threads, $workers workers, event loops standalone=${SERVER_THREADS:-default} per-worker=${CLUSTER_THREADS:-${SERVER_THREADS:-default}}, bin/cluster"
echo
printf '%-24s %6s %12s %10s %10s %8s\n' "setup" "conns" "req/s" "p50" "p99" "errors"
: >"$tmp/extra"
for mode in $modes; do
  start_server "$mode"
  run_wrk 64 2 "$tmp/warm"   # JIT warm-up, not reported
  for c in 64 1000; do
    run_wrk "$c" "$duration" "$tmp/wrk"
    label="$mode"; [ "$mode" != standalone ] && label="cluster $workers ($mode)"
    printf '%-24s %6s %12s %10s %10s %8s\n' "$label" "$c" "$(rps "$tmp/wrk")" "$(pct "$tmp/wrk" 50%)" "$(pct "$tmp/wrk" 99%)" "$(errors "$tmp/wrk")"
  done
  # split over the workers at c64 (a Lua response hook slows wrk, so it is a run of its own), and
  # new connections per second: every request on a new connection (Connection: close).
  wrk -t"$threads" -c64 -d"${duration}s" -s "$tmp/split.lua" "http://127.0.0.1:$port/" >"$tmp/split" 2>&1 || true
  w0="$(ticks "$server_pid")"; a0="$(ticks "$server_pid" kcluster-balanc)"
  wrk -t"$threads" -c64 -d"${duration}s" --timeout 10s -H "Connection: close" "http://127.0.0.1:$port/" >"$tmp/close" 2>&1 || true
  wcpu="-"; acpu="-"
  if [ "$mode" != standalone ]; then
    wcpu="$(cpu_pct "$w0" "$(ticks "$server_pid")" "$duration")"
    [ "$mode" = balance ] && acpu="$(cpu_pct "$a0" "$(ticks "$server_pid" kcluster-balanc)" "$duration")"
  fi
  split="$(awk '/^split/{n=0; for(i=2;i<=NF;i++){split($i,a,"="); v[i]=a[2]; n+=a[2]} for(i=2;i<=NF;i++) s=s (i>2?"/":"") sprintf("%.1f", 100*v[i]/n); print s}' "$tmp/split")"
  printf '%-24s %14s %16s %8s %12s %12s\n' "$label" "${split:-?}" "$(rps "$tmp/close")" "$(errors "$tmp/close")" "$wcpu" "$acpu" >>"$tmp/extra"
  stop_server
done
echo
printf '%-24s %14s %16s %8s %12s %12s\n' "setup" "split % (c64)" "new conns/s" "errors" "watcher cpu" "accept cpu"
cat "$tmp/extra"
echo "(watcher cpu / accept cpu: the watcher's, and its balancer accept thread's, share of one core during the new-connections run)"

[ "${LOAD_TESTS:-1}" = 1 ] || exit 0
echo
load=$((duration * 3)); [ "$load" -lt 30 ] && load=30
echo "under load (wrk -c64, $load s):"
for mode in shared reuseport balance; do
  start_server "$mode"
  run_wrk 64 "$load" "$tmp/wrk" &
  wrk_pid=$!
  sleep 2
  before="$(worker_pids | sort | tr '\n' ' ')"
  kill -HUP "$server_pid"                     # = bin/cluster reload
  await_replaced "$before"
  mid="$(worker_pids | sort | tr '\n' ' ')"
  kill -HUP "$server_pid"
  await_replaced "$mid"
  after="$(worker_pids | sort | tr '\n' ' ')"
  wait "$wrk_pid" || true
  printf '  %-40s %8s failed of %s requests (workers %s-> %s-> %s)\n' "2 rolling restarts ($mode)" "$(errors "$tmp/wrk")" "$(total "$tmp/wrk")" "$before" "$mid" "$after"
  stop_server
done

start_server shared
run_wrk 64 "$duration" "$tmp/wrk" &
wrk_pid=$!
sleep $((duration / 3 + 1))
victim="$(worker_pids | head -1)"
if [ -n "$victim" ]; then kill -9 "$victim"; else echo "  (no worker pid found to kill)"; fi
wait "$wrk_pid" || true
printf '  %-40s %8s failed of %s requests\n' "SIGKILL worker pid $victim (shared)" "$(errors "$tmp/wrk")" "$(total "$tmp/wrk")"
stop_server
