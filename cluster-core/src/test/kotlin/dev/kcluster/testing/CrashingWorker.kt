package dev.kcluster.testing

import dev.kcluster.Cluster
import kotlinx.coroutines.runBlocking

/** Worker 1 runs until told "crash"; every later worker throws right after READY: a crash loop. */
object CrashingWorker {
    @JvmStatic
    fun main(args: Array<String>): Unit =
        runBlocking<Unit> {
            Cluster.ready()
            if (Cluster.workerId == 1) Cluster.channel.receive()
            throw IllegalStateException("kaboom from worker ${Cluster.workerId}")
        }
}
