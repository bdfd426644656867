#!/usr/bin/env bash
# kcluster hostile-peer benchmark (issue 10, item 1). Starts a watcher (`bin/cluster`, one HelloHttp
# worker), then runs ROUNDS rounds of COUNT hostile connections to its ipc.sock from a separate JVM
# (cluster-bench HostileClient: garbage, oversized and truncated frames, wrong keys, silence), and
# prints the watcher's RSS before and after each round and after a full GC (`jcmd PID GC.run`), its
# thread count and the rejection lines it logged, as a markdown table. Goal: RSS growth of at most
# 32 MB over all rounds, not climbing from round to round. Not a test: run it on a quiet machine.
#   bench/hostile.sh [--rounds N] [--count N] [--watcher-root DIR]
# --watcher-root runs the watcher of another checkout (e.g. a clone of main, for a baseline); the
# attacker always comes from this one. BENCH_SKIP_BUILD=1 reuses the existing builds;
# KCLUSTER_JAVA_OPTS=-XX:NativeMemoryTracking=summary adds the watcher's native memory growth at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3 count=10000 wroot="$root"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --watcher-root) wroot="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "usage: bench/hostile.sh [--rounds N] [--count N] [--watcher-root DIR]" >&2; exit 2 ;;
  esac
done
command -v jcmd >/dev/null || { echo "bench/hostile.sh: jcmd (a JDK) is needed" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench/hostile.sh: curl is needed" >&2; exit 2; }

if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  (cd "$root" && mvn -B -q -pl cluster-bench -am package -DskipTests)
  (cd "$wroot" && mvn -B -q -pl cluster-cli,samples -am package -DskipTests)
fi
bench="$root/cluster-bench/target"

tmp="$(mktemp -d)"
wpid=""
cleanup() {
  if [[ -n "$wpid" ]] && kill -0 "$wpid" 2>/dev/null; then kill -TERM "$wpid"; wait "$wpid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(( 20000 + RANDOM % 20000 ))
"$wroot/bin/cluster" --workers 1 -p "$tmp/watcher.pid" -cp "$wroot/samples/target/kcluster-samples.jar" \
  dev.kcluster.samples.HelloHttp --port "$port" 2>"$tmp/watcher.log" &
wpid=$!
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  kill -0 "$wpid" 2>/dev/null || { echo "bench/hostile.sh: the watcher exited:" >&2; cat "$tmp/watcher.log" >&2; exit 1; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/" >/dev/null || { echo "bench/hostile.sh: HelloHttp never answered on $port" >&2; exit 1; }
worker="$(pgrep -P "$wpid" | head -1)"
socket="$(tr '\0' '\n' < "/proc/$worker/environ" | sed -n 's/^KCLUSTER_SOCKET=//p')"
[[ -S "$socket" ]] || { echo "bench/hostile.sh: no IPC socket found for worker $worker" >&2; exit 1; }

rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$wpid/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$wpid/status"; }
heap() { jcmd "$wpid" GC.heap_info | awk '/ total /{for(i=1;i<=NF;i++) if($i=="total"){v=$(i+1); sub(/K,?/,"",v); print int(v/1024); exit}}'; }
rejections() { grep -c "rejected IPC peer" "$tmp/watcher.log" || true; }
jcmd "$wpid" GC.run >/dev/null
start=$(rss)
nmt=0; [[ "${KCLUSTER_JAVA_OPTS:-}" == *NativeMemoryTracking* ]] && nmt=1
[[ $nmt == 1 ]] && jcmd "$wpid" VM.native_memory baseline >/dev/null
echo "watcher: $wroot (pid $wpid), $rounds rounds of $count hostile connections"
echo
echo "| round | RSS before (MB) | RSS after (MB) | RSS after GC (MB) | heap committed after GC (MB) | threads after | log lines | attacker |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq 1 "$rounds"); do
  before=$(rss); logged=$(rejections)
  summary="$(java --add-opens java.base/sun.nio.ch=ALL-UNNAMED -cp "$bench/classes:$(cat "$bench/classpath.txt")" \
    dev.kcluster.bench.HostileClient "$socket" "$count" 2>&1 | tail -1)"
  after=$(rss); th=$(threads)
  jcmd "$wpid" GC.run >/dev/null
  gc=$(rss)
  echo "| $r | $before | $after | $gc | $(heap) | $th | $(( $(rejections) - logged )) | $summary |"
done
end=$(rss)
if [[ $nmt == 1 ]]; then
  echo; echo "Native memory committed since the first round (jcmd VM.native_memory summary.diff):"
  jcmd "$wpid" VM.native_memory summary.diff | grep -E "^(Total|-)" | sed 's/^/    /'
fi
echo
echo "RSS growth after GC over all rounds: $(( end - start )) MB (from $start MB after a first GC); HelloHttp still answers: $(curl -fs "http://127.0.0.1:$port/" >/dev/null && echo yes || echo NO)"
