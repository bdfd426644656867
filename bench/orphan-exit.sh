#!/usr/bin/env bash
# bench/orphan-exit.sh: how fast HelloHttp (Netty) workers end after their watcher is SIGKILLed, this
# tree against a baseline, rounds interleaved in the same run. Time = from `kill -9` of the watcher to
# every worker pid gone (polled in a busy loop of shell builtins). Prints a markdown table.
#
#   bench/orphan-exit.sh [rounds]        # default 5 rounds each, 2 workers
#   BASE_REF=v0.1.0 bench/orphan-exit.sh # baseline: this git ref, built in a worktree (default: main)
#   BASE_DIR=dir bench/orphan-exit.sh    # baseline: dir/kcluster-cli.jar and dir/kcluster-samples.jar
#   WORKERS=4 bench/orphan-exit.sh
# This tree runs with --class-cache off (NEW_OPTS): the archive's one-time training JVM is a third
# WorkerMain child, and the baseline has no class cache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"
workers="${WORKERS:-2}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
tmp="$(mktemp -d)"
watcher=""
cleanup() {
  [ -n "$watcher" ] && kill -9 "$watcher" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

cd "$root"
[ -f cluster-cli/target/kcluster-cli.jar ] && [ -f samples/target/kcluster-samples.jar ] && [ "${BENCH_SKIP_BUILD:-}" = 1 ] ||
  mvn -B -q -pl cluster-cli,samples -am package -DskipTests
new_dir="$tmp/new"
mkdir -p "$new_dir"
cp cluster-cli/target/kcluster-cli.jar samples/target/kcluster-samples.jar "$new_dir/"

base_dir="${BASE_DIR:-}"
if [ -z "$base_dir" ]; then
  ref="${BASE_REF:-main}"
  sha="$(git rev-parse --short "$ref")"
  base_dir="$root/cluster-bench/target/orphan-base-$sha"
  if [ ! -f "$base_dir/kcluster-samples.jar" ]; then
    echo "building the baseline $ref ($sha) in a worktree..." >&2
    wt="$tmp/base-tree"
    git worktree add -q --detach "$wt" "$sha"
    (cd "$wt" && mvn -B -q -pl cluster-cli,samples -am package -DskipTests) >&2
    mkdir -p "$base_dir"
    cp "$wt/cluster-cli/target/kcluster-cli.jar" "$wt/samples/target/kcluster-samples.jar" "$base_dir/"
    git worktree remove --force "$wt"
  fi
fi

gone() { # pid: true when the process no longer exists or is a zombie
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
  [[ "${stat##*) }" == Z* ]]
}

new_opts="${NEW_OPTS---class-cache off}"

# one_round DIR [OPTION...]: prints the milliseconds from SIGKILL of the watcher to all workers gone.
one_round() {
  local dir="$1" log="$tmp/watcher.log" pids=() ipc=""
  shift
  "$java" -jar "$dir/kcluster-cli.jar" "$@" --workers "$workers" --classpath "$dir/kcluster-samples.jar" \
    dev.kcluster.samples.HelloHttp --port 0 --threads 1 >"$log" 2>&1 &
  watcher=$!
  for _ in $(seq 1 600); do
    [ "$(grep -c 'HelloHttp listening' "$log" || true)" -ge "$workers" ] && break
    kill -0 "$watcher" 2>/dev/null || { echo "the watcher exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  mapfile -t pids < <(pgrep -P "$watcher" -f WorkerMain)
  [ "${#pids[@]}" -eq "$workers" ] || { echo "expected $workers workers, found ${pids[*]}" >&2; exit 1; }
  ipc="$(tr '\0' '\n' <"/proc/${pids[0]}/environ" | sed -n 's/^KCLUSTER_SOCKET=//p')"
  sleep 1 # idle, as a server would be
  local t0="$EPOCHREALTIME"
  kill -9 "$watcher"
  local p
  for p in "${pids[@]}"; do while ! gone "$p"; do :; done; done
  local t1="$EPOCHREALTIME"
  wait "$watcher" 2>/dev/null || true
  watcher=""
  rm -rf "$(dirname "$ipc")" # a SIGKILLed watcher cannot remove its IPC directory
  echo $(( (${t1/./} - ${t0/./}) / 1000 ))
}

base=(); new=()
for _ in $(seq 1 "$rounds"); do
  base+=("$(one_round "$base_dir")")
  # shellcheck disable=SC2086 # NEW_OPTS is a list of options
  new+=("$(one_round "$new_dir" $new_opts)")
done

stats() { # values...: median min max
  local s
  mapfile -t s < <(printf '%s\n' "$@" | sort -n)
  echo "${s[$(( ${#s[@]} / 2 ))]} | ${s[0]} | ${s[$(( ${#s[@]} - 1 ))]}"
}
echo "| build | median ms | min ms | max ms | all (ms) |"
echo "|---|---:|---:|---:|---|"
echo "| baseline ($(basename "$base_dir")) | $(stats "${base[@]}") | ${base[*]} |"
echo "| this tree | $(stats "${new[@]}") | ${new[*]} |"
echo
echo "watcher SIGKILL to all $workers HelloHttp workers gone, $rounds rounds each, interleaved; $(nproc) CPUs, $("$java" -version 2>&1 | head -1)"
