#!/usr/bin/env bash
# bench/lifecycle.sh: what a user of `bin/cluster` sees, end to end, with samples HelloHttp on 2 workers:
#   launch    `bin/cluster` started -> first HTTP 200
#   respawn   SIGKILL of a worker -> a response from a new worker (an X-Worker-Id not seen before), asked by one curl
#             process in a loop (see first_new)
#   memory    RSS and PSS (/proc/PID/smaps_rollup) of each worker and of the watcher, thread counts: idle (a second start of the
#             round, 3 s after both workers answered, no load) and after load (3 s after the first-2 s wrk run)
#   req/s     wrk -c64 in the first 2 s after the first 200, and warm (2 s after 6 s of load)
# for each JDK (17, 25) x class cache (off, on) x standby (0; STANDBYS="0 1" once --standby exists), in one run.
# Prints a markdown table: medians with min-max, and ratios of the medians against the JDK 17 archive-off row.
#
#   bench/lifecycle.sh                 # 3 rounds per row
#   ROUNDS=5 bench/lifecycle.sh
#   JDKS="/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64" CACHES="off on" STANDBYS="0" bench/lifecycle.sh
#   EXTRA="--jvm-defaults off" bench/lifecycle.sh   # more `cluster` options for every row
#   API=1 bench/lifecycle.sh [rounds]  # the older in-process numbers (ClusterWatcher API, LifecycleBench)
#
# Needs curl and wrk (installed with apt-get when missing and running as root), the samples jar (built when
# missing). Archives go to a temporary XDG_CACHE_HOME; the "on" rows train it first (not measured).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "${API:-}" = 1 ]; then
  out="$root/cluster-bench/target"
  cd "$root"
  [[ "${BENCH_SKIP_BUILD:-}" == 1 && -f "$out/classpath.txt" ]] || mvn -B -q -pl cluster-bench -am package -DskipTests
  exec java --add-opens java.base/sun.nio.ch=ALL-UNNAMED -Dbench.workerJvm="${BENCH_WORKER_JVM:-}" \
    -cp "$out/classes:$(cat "$out/classpath.txt")" dev.kcluster.bench.LifecycleBench "$@"
fi

jar="$root/samples/target/kcluster-samples.jar"
rounds="${ROUNDS:-3}"
jdks="${JDKS:-/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64}"
caches="${CACHES:-off on}"
standbys="${STANDBYS:-0}"
port="${PORT:-18090}"
tmp="$(mktemp -d)"
watcher=""

cleanup() {
  if [ -n "$watcher" ]; then kill -9 "$watcher" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

for tool in curl wrk; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "bench/lifecycle.sh needs $tool" >&2; exit 1; }
    apt-get install -y "$tool" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$tool" >/dev/null; }
  fi
done
[ -f "$jar" ] || (cd "$root" && mvn -B -q -pl samples,cluster-cli -am package -DskipTests) >&2
[ -f "$root/cluster-cli/target/kcluster-cli.jar" ] || (cd "$root" && mvn -B -q -pl cluster-cli -am package -DskipTests) >&2

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
worker_id() { curl -s -m 1 -H 'Connection: close' -D - -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null | tr -d '\r' | awk -F': ' 'tolower($1)=="x-worker-id"{print $2}' || true; }
# workers_of WATCHER: its worker pids, oldest first (by start time, not pid: pids wrap around)
workers_of() { ps -o pid=,args= --ppid "$1" --sort=start_time | awk '/WorkerMain/{print $1}' || true; }
kib() { awk -v k="$2" '$1==k":"{print $2}' "$1" 2>/dev/null; }
# mib PID Rss|Pss: that figure of the process (smaps_rollup), in MiB
mib() { echo $(( $(kib "/proc/$1/smaps_rollup" "$2") / 1024 )); }
rps() { wrk -t2 -c64 -d"$1"s --timeout 5s "http://127.0.0.1:$port/" 2>/dev/null | awk '/^Requests\/sec/{printf "%.0f", $2}'; }

# start JDK CACHE STANDBY: sets $watcher; prints nothing
start() {
  local jdk="$1" cache="$2" standby="$3" extra=()
  [ "$standby" != 0 ] && extra+=(--standby "$standby")
  # shellcheck disable=SC2206
  extra+=(${EXTRA:-})
  JAVA_HOME="$jdk" XDG_CACHE_HOME="$tmp/xdg" "$root/bin/cluster" -w 2 --class-cache "$([ "$cache" = on ] && echo auto || echo off)" \
    "${extra[@]}" --classpath "$jar" dev.kcluster.samples.HelloHttp --port "$port" >"$tmp/log" 2>&1 &
  watcher=$!
}
stop() {
  kill "$watcher" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  watcher=""
}
await_200() {
  for _ in $(seq 1 6000); do
    curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && return 0
    kill -0 "$watcher" 2>/dev/null || { echo "cluster exited:" >&2; cat "$tmp/log" >&2; exit 1; }
    sleep 0.005
  done
  echo "no HTTP 200 within 60 s" >&2; cat "$tmp/log" >&2; exit 1
}
# Until both workers answer (distinct X-Worker-Id values); prints them.
await_both() {
  local seen=""
  for _ in $(seq 1 3000); do
    seen="$(printf '%s\n' "$seen" "$(worker_id)" | grep -v '^$' | sort -u || true)"
    [ "$(printf '%s\n' "$seen" | grep -c .)" -ge 2 ] && { echo "$seen"; return 0; }
  done
  echo "both workers did not answer" >&2; exit 1
}

# first_new IDS: asks until a response carries an X-Worker-Id not in IDS (one per line); prints that moment (ns).
# One curl process makes the requests (each a new connection, `Connection: close`) and bash reads its headers, so a
# try costs about a millisecond, not the tens of a process per try, and the figure is the cluster's, not the loop's.
first_new() {
  local ids=$'\n'"$1"$'\n' url="http://127.0.0.1:$port/" urls=() line id
  for _ in $(seq 1 500); do urls+=("$url"); done
  for _ in $(seq 1 60); do
    while IFS= read -r line; do
      line="${line%$'\r'}"
      case "${line,,}" in
        x-worker-id:*)
          id="${line#*: }"
          if [[ "$ids" != *$'\n'"$id"$'\n'* ]]; then echo "${EPOCHREALTIME/./}000"; return 0; fi ;;
      esac
    done < <(curl -s -m 1 -H 'Connection: close' -D - -o /dev/null "${urls[@]}" 2>/dev/null)
  done
  echo "no new worker answered" >&2; exit 1
}

declare -A res   # res[row,metric] = "v1 v2 ..."
add() { res["$1,$2"]="${res["$1,$2"]:-} $3"; }
rows=()

for jdk in $jdks; do
  feature="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release")"
  for cache in $caches; do
    for standby in $standbys; do
      row="JDK $feature, archive $cache, standby $standby"
      rows+=("$row")
      if [ "$cache" = on ]; then   # train the workers' and the watcher's archives once, unmeasured
        start "$jdk" on "$standby"; await_200
        for _ in $(seq 1 1200); do grep -q "class cache: created\|class cache: training" "$tmp/log" && break; sleep 0.1; done
        stop
      else
        start "$jdk" off "$standby"; await_200; stop
      fi
      # The watcher's own archive (bin/cluster) is in every row: on JDK 17 it is moved in place at this second start;
      # on JDK 25 this start assembles the AOT cache that the first one recorded, in the background: await it.
      start "$jdk" "$cache" "$standby"; await_200; stop
      for _ in $(seq 1 600); do compgen -G "$tmp/xdg/kcluster/cli-*.conf*" >/dev/null || break; sleep 0.1; done
      for r in $(seq 1 "$rounds"); do
        t0=$(now); start "$jdk" "$cache" "$standby"; await_200; t1=$(now)
        add "$row" launch "$(ms "$t0" "$t1")"
        add "$row" first2s "$(rps 2)"
        ids="$(await_both)"
        sleep 3
        for w in $(workers_of "$watcher"); do
          add "$row" wrss "$(mib "$w" Rss)"
          add "$row" wpss "$(mib "$w" Pss)"
          add "$row" wthr "$(awk '/^Threads:/{print $2}' "/proc/$w/status")"
        done
        add "$row" vthr "$(awk '/^Threads:/{print $2}' "/proc/$watcher/status")"
        rps 6 >/dev/null
        add "$row" warm "$(rps 2)"
        victim="$(workers_of "$watcher" | head -1)"
        t2=$(now); kill -9 "$victim"
        t3="$(first_new "$ids")" || exit 1
        add "$row" respawn "$(ms "$t2" "$t3")"
        stop
        # Idle: a fresh start that never saw load.
        start "$jdk" "$cache" "$standby"; await_200; await_both >/dev/null
        sleep 3
        # The slots' workers only: a standby starts once they are READY, so it has the newest pid.
        for w in $(workers_of "$watcher" | head -2); do
          add "$row" iwrss "$(mib "$w" Rss)"
          add "$row" iwpss "$(mib "$w" Pss)"
        done
        add "$row" vrss "$(mib "$watcher" Rss)"
        add "$row" vpss "$(mib "$watcher" Pss)"
        stop
        echo "  $row, round $r: launch $(ms "$t0" "$t1") ms" >&2
      done
    done
  done
done

stats() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{if(NR==0){print "- - -"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m, a[1], a[NR]}'; }
cell() { local s; s="$(printf '%s' "${res["$1,$2"]:-}" | stats)"; set -- $s; printf '%s (%s-%s)' "$1" "$2" "$3"; }
med() { printf '%s' "${res["$1,$2"]:-}" | stats | cut -d' ' -f1; }
ratio() { local b; b="$(med "${rows[0]}" "$2")"; awk -v a="$(med "$1" "$2")" -v b="$b" 'BEGIN{if(b+0==0||a=="-")print "-"; else printf "%.2fx", a/b}'; }

echo
echo "bin/cluster, samples HelloHttp, 2 workers, $(nproc) cores, $rounds rounds per row; median (min-max); ratio = median / first row's median"
echo
metrics="launch respawn iwrss iwpss wrss wpss wthr vrss vpss vthr first2s warm"
printf '| %s |' "setup"; for m in $metrics; do printf ' %s |' "$m"; done; echo
printf '|---|'; for _ in $metrics; do printf -- '---:|'; done; echo
for row in "${rows[@]}"; do
  printf '| %s |' "$row"; for m in $metrics; do printf ' %s |' "$(cell "$row" "$m")"; done; echo
  printf '| %s |' "  ratio"; for m in $metrics; do printf ' %s |' "$(ratio "$row" "$m")"; done; echo
done
echo
echo "launch: bin/cluster started -> first HTTP 200 (ms); respawn: SIGKILL of a worker -> a new worker answers (ms);"
echo "iwrss/iwpss: per-worker RSS/PSS idle (MiB); wrss/wpss: after load; wthr: threads per worker; vrss/vpss (idle)/vthr: the watcher's;"
echo "first2s/warm: req/s (wrk -c64). Idle columns count the two serving workers; after-load columns include a standby's JVM."
