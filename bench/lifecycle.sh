#!/usr/bin/env bash
# kcluster lifecycle numbers (issue 3): start to READY, respawn, idle RSS, orphan exit. Prints a
# markdown table. Not a test: run it on a quiet machine.
#   bench/lifecycle.sh [rounds]                     workers on default JVM options
#   BENCH_WORKER_JVM="-Xmx64m -XX:+UseSerialGC" bench/lifecycle.sh   workers with these options
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="$root/cluster-bench/target"
[[ "${BENCH_SKIP_BUILD:-}" == 1 && -f "$out/classpath.txt" ]] || mvn -B -q -pl cluster-bench -am package -DskipTests
exec java --add-opens java.base/sun.nio.ch=ALL-UNNAMED -Dbench.workerJvm="${BENCH_WORKER_JVM:-}" \
  -cp "$out/classes:$(cat "$out/classpath.txt")" dev.kcluster.bench.LifecycleBench "$@"
