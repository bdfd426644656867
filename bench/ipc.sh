#!/usr/bin/env bash
# kcluster IPC benchmark (issue 2). Builds cluster-bench and the C SCM_RIGHTS baseline, runs the
# bench main and prints a markdown table. Not a test: run it on a quiet machine.
#   bench/ipc.sh            full run (about a minute)
#   bench/ipc.sh --quick    a few iterations, to check that it works
#   bench/ipc.sh --only transfers|messages
# BENCH_JVM_OPTS (bench JVM) and BENCH_CHILD_JVM_OPTS (child JVMs) add JVM options, e.g. JFR;
# BENCH_SKIP_BUILD=1 reuses the last build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v gcc >/dev/null || { echo "bench/ipc.sh: gcc is needed for the C baseline (apt-get install gcc)" >&2; exit 2; }
out="$root/cluster-bench/target"
if [[ "${BENCH_SKIP_BUILD:-}" == 1 && -f "$out/classpath.txt" ]]; then
  echo "bench/ipc.sh: BENCH_SKIP_BUILD=1, using the existing build in $out" >&2
else
  mvn -B -q -pl cluster-bench -am package -DskipTests
fi
gcc -O2 -Wall -Wextra -o "$out/scm_rights" "$root/bench/c/scm_rights.c"

exec java ${BENCH_JVM_OPTS:-} --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
  -cp "$out/classes:$(cat "$out/classpath.txt")" \
  dev.kcluster.bench.IpcBench --c-bin "$out/scm_rights" "$@"
