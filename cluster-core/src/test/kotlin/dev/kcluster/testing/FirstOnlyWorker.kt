package dev.kcluster.testing

import dev.kcluster.Cluster
import kotlinx.coroutines.runBlocking

/** Worker 1 serves until stopped; every later worker fails before READY (a cluster that cannot grow). */
object FirstOnlyWorker {
    @JvmStatic
    fun main(args: Array<String>): Unit =
        runBlocking<Unit> {
            check(Cluster.workerId == 1) { "only worker 1 may start, this is worker ${Cluster.workerId}" }
            Cluster.ready()
            Cluster.awaitTermination()
        }
}
