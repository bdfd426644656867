package dev.kcluster.internal.log

import org.slf4j.ILoggerFactory
import org.slf4j.IMarkerFactory
import org.slf4j.Logger
import org.slf4j.Marker
import org.slf4j.event.Level
import org.slf4j.helpers.AbstractLogger
import org.slf4j.helpers.BasicMDCAdapter
import org.slf4j.helpers.BasicMarkerFactory
import org.slf4j.helpers.MessageFormatter
import org.slf4j.spi.MDCAdapter
import org.slf4j.spi.SLF4JServiceProvider
import java.io.PrintWriter
import java.io.StringWriter
import java.util.concurrent.ConcurrentHashMap

/**
 * kcluster's SLF4J provider. In a worker it forwards whole records to the watcher; elsewhere it
 * writes them to [LogOutput]. Another provider on the classpath can be chosen with the system
 * property `slf4j.provider`; then workers still relay their stdout/stderr line by line.
 */
public class KclusterServiceProvider : SLF4JServiceProvider {
    private val factory = KclusterLoggerFactory()
    private val markers = BasicMarkerFactory()
    private val mdc = BasicMDCAdapter()
    override fun getLoggerFactory(): ILoggerFactory = factory
    override fun getMarkerFactory(): IMarkerFactory = markers
    override fun getMDCAdapter(): MDCAdapter = mdc
    override fun getRequestedApiVersion(): String = "2.0.99"
    override fun initialize() {}
}

internal class KclusterLoggerFactory : ILoggerFactory {
    private val loggers = ConcurrentHashMap<String, Logger>()
    override fun getLogger(name: String): Logger = loggers.computeIfAbsent(name) { KclusterLogger(it) }
}

/** Where records go: a worker installs [forward]; it returns false when it could not send. */
internal object LogSink {
    @Volatile var forward: ((LogRecord) -> Boolean)? = null
    private val busy = ThreadLocal<Boolean>()

    fun emit(record: LogRecord) {
        val f = forward
        if (f != null && busy.get() != true) {
            busy.set(true)
            try {
                if (f(record)) return
            } catch (_: Throwable) {
            } finally {
                busy.set(false)
            }
        }
        LogOutput.write(record)
    }
}

internal class KclusterLogger(private val loggerName: String) : AbstractLogger() {
    init { name = loggerName }

    private fun on(level: Level) = LogOutput.isEnabled(level.toInt())
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

    override fun handleNormalizedLoggingCall(level: Level, marker: Marker?, pattern: String?, args: Array<out Any?>?, t: Throwable?) {
        // Never throw into the caller: a failing toString() or stack trace is replaced by a note.
        val message = try {
            MessageFormatter.basicArrayFormat(pattern, args?.let { safeArgs(it) })
        } catch (e: Throwable) {
            "$pattern [formatting failed: $e]"
        } ?: "null"
        val throwable = t?.let { stackTrace(it) }
        val mdc = try {
            org.slf4j.MDC.getCopyOfContextMap()?.filterValues { it != null } ?: emptyMap()
        } catch (_: Throwable) { emptyMap() }
        LogSink.emit(LogRecord(System.currentTimeMillis(), level.toInt(), loggerName, Thread.currentThread().name, message, throwable, mdc))
    }

    private fun safeArgs(args: Array<out Any?>): Array<Any?> = Array(args.size) { i ->
        val a = args[i]
        try { a?.toString() } catch (e: Throwable) { "[${a?.javaClass?.name}.toString() failed: $e]" }
    }

    private fun stackTrace(t: Throwable): String = try {
        StringWriter().also { t.printStackTrace(PrintWriter(it)) }.toString()
    } catch (e: Throwable) {
        "${t.javaClass.name} [stack trace unavailable: $e]"
    }
}
