package dev.kcluster.logging

import dev.kcluster.Cluster
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory
import org.slf4j.MDC

/** Test worker: one INFO record with `request=42` in the MDC, one ERROR record with an exception, one stdout line. */
object LogWorker {
    @JvmStatic
    fun main(args: Array<String>) {
        val id = Cluster.workerId
        val log = LoggerFactory.getLogger(LogWorker::class.java)
        MDC.put("request", "42")
        log.info("hello from worker {}", id)
        MDC.clear()
        log.error("failed in worker {}", id, IllegalStateException("boom"))
        println("stdout line from worker $id")
        Cluster.ready()
        runBlocking { Cluster.awaitTermination() }
    }
}
