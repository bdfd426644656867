package dev.kcluster.testing

import dev.kcluster.Cluster
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory
import org.slf4j.MDC

/**
 * Test worker that logs through SLF4J, with `request=42` in its MDC:
 * - `once`: one INFO record, one ERROR record with an exception, one stdout line;
 * - `flood`: on logger [FLOOD_LOGGER], `flood N` records without end (batches of 10 every 10 ms).
 */
object LoggingWorker {
    const val FLOOD_LOGGER = "kcluster.test.flood"

    @JvmStatic
    fun main(args: Array<String>) {
        val id = Cluster.workerId
        MDC.put("request", "42")
        if ("flood" in args) {
            val log = LoggerFactory.getLogger(FLOOD_LOGGER)
            Thread(
                    {
                        var n = 0L
                        while (true) {
                            repeat(10) { log.info("flood {}", n++) }
                            Thread.sleep(10)
                        }
                    },
                    "flood",
                )
                .apply {
                    isDaemon = true
                    start()
                }
        } else {
            val log = LoggerFactory.getLogger(LoggingWorker::class.java)
            log.info("hello {} from worker {}", "logback", id)
            log.error("failed in worker {}", id, IllegalStateException("boom"))
            println("stdout line from worker $id")
        }
        Cluster.ready()
        runBlocking { Cluster.awaitTermination() }
    }
}
