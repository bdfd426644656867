package dev.kcluster.logging.internal

import dev.kcluster.internal.log.LogForwarding
import dev.kcluster.internal.log.LogRecord
import dev.kcluster.internal.log.WorkerRecordWriter
import java.util.concurrent.ConcurrentHashMap
import org.slf4j.ILoggerFactory
import org.slf4j.Logger
import org.slf4j.MDC
import org.slf4j.Marker
import org.slf4j.event.Level
import org.slf4j.helpers.AbstractLogger

internal class KclusterLoggerFactory : ILoggerFactory, WorkerRecordWriter {
    private val loggers = ConcurrentHashMap<String, Logger>()

    override fun getLogger(name: String?): Logger = (name ?: "null").let { n -> loggers.computeIfAbsent(n) { KclusterLogger(it) } }

    override fun writeWorkerRecord(record: LogRecord, workerId: Int) = MergedLog.write(record, "worker $workerId")
}

/** Never throws into the caller: the record is built by [LogRecord.capture], which guards every user object. */
internal class KclusterLogger(loggerName: String) : AbstractLogger() {
    init {
        name = loggerName
    }

    private fun on(level: Level) = MergedLog.isEnabled(level.toInt())

    override fun isTraceEnabled() = on(Level.TRACE)

    override fun isTraceEnabled(marker: Marker?) = on(Level.TRACE)

    override fun isDebugEnabled() = on(Level.DEBUG)

    override fun isDebugEnabled(marker: Marker?) = on(Level.DEBUG)

    override fun isInfoEnabled() = on(Level.INFO)

    override fun isInfoEnabled(marker: Marker?) = on(Level.INFO)

    override fun isWarnEnabled() = on(Level.WARN)

    override fun isWarnEnabled(marker: Marker?) = on(Level.WARN)

    override fun isErrorEnabled() = on(Level.ERROR)

    override fun isErrorEnabled(marker: Marker?) = on(Level.ERROR)

    override fun getFullyQualifiedCallerName(): String? = null

    override fun handleNormalizedLoggingCall(level: Level?, marker: Marker?, pattern: String?, args: Array<out Any?>?, t: Throwable?) {
        try {
            val mdc =
                try {
                    MDC.getCopyOfContextMap()
                } catch (_: Throwable) {
                    null
                }
            val record = LogRecord.capture((level ?: Level.INFO).toInt(), name, pattern, args, t, mdc)
            if (!LogForwarding.forward(record)) MergedLog.write(record)
        } catch (_: Throwable) {
            // Out of memory or a broken stream: logging still returns normally.
        }
    }
}
