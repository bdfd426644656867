package dev.kcluster.testing

import dev.kcluster.ClusterWatcher
import dev.kcluster.WatcherConfig
import kotlinx.coroutines.runBlocking

/**
 * A watcher in its own JVM: `WatcherMain [N [orphanExitGraceMillis [EchoWorker args…]]]` starts N EchoWorkers, prints "PIDS p1 p2 …", then
 * runs until killed.
 */
object WatcherMain {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val n = args.firstOrNull()?.toInt() ?: 2
        val watcher =
            ClusterWatcher(
                WatcherConfig(EchoWorker::class.java.name) {
                    jvmOptions(TEST_JVM)
                    args.getOrNull(1)?.let { orphanExitGrace(java.time.Duration.ofMillis(it.toLong())) }
                    args(args.drop(2))
                }
            )
        watcher.start(n)
        println("PIDS " + watcher.workers.joinToString(" ") { it.pid.toString() })
        System.out.flush()
        watcher.awaitTermination()
        Unit
    }
}
