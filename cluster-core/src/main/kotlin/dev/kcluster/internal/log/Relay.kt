package dev.kcluster.internal.log

import org.slf4j.LoggerFactory
import org.slf4j.MDC
import org.slf4j.event.Level
import java.io.InputStream

/** Re-emits worker output in the watcher's log, tagged with the worker id. */
internal object Relay {
    private val ownProvider: Boolean by lazy { LoggerFactory.getILoggerFactory() is KclusterLoggerFactory }

    /** Reads [input] line by line on a daemon thread. */
    fun lines(input: InputStream, name: String, onLine: (String) -> Unit) {
        Thread({
            runCatching { input.bufferedReader().forEachLine(onLine) }
        }, "kcluster-relay-$name").apply { isDaemon = true; start() }
    }

    fun emit(record: LogRecord, workerId: Int) {
        if (ownProvider) {
            LogOutput.write(record, "worker $workerId")
            return
        }
        val logger = LoggerFactory.getLogger(record.logger)
        val level = Level.intToLevel(record.level)
        if (!logger.isEnabledForLevel(level)) return
        MDC.put("worker", workerId.toString())
        try {
            val msg = if (record.throwable != null) record.message + "\n" + record.throwable else record.message
            logger.atLevel(level).log(msg)
        } finally {
            MDC.remove("worker")
        }
    }
}
