package dev.kcluster.testing

import dev.kcluster.internal.log.LogForwarding
import dev.kcluster.internal.log.LogRecord
import org.slf4j.ILoggerFactory
import org.slf4j.IMarkerFactory
import org.slf4j.MDC
import org.slf4j.Marker
import org.slf4j.event.Level
import org.slf4j.helpers.AbstractLogger
import org.slf4j.helpers.BasicMDCAdapter
import org.slf4j.helpers.BasicMarkerFactory
import org.slf4j.spi.MDCAdapter
import org.slf4j.spi.SLF4JServiceProvider

/**
 * The smallest SLF4J backend that uses core's worker-side forwarding, as `cluster-logging` does (which core's tests cannot depend on). Test
 * workers select it with `-Dslf4j.provider` ([FORWARDING]); it is not registered in META-INF/services, so the test JVM itself keeps
 * Logback. Outside a worker it prints the message to stderr.
 */
class ForwardingProvider : SLF4JServiceProvider {
    private val mdc = BasicMDCAdapter()
    private val markers = BasicMarkerFactory()
    private val factory = ILoggerFactory { name -> ForwardingLogger(name) }

    override fun getLoggerFactory(): ILoggerFactory = factory

    override fun getMarkerFactory(): IMarkerFactory = markers

    override fun getMDCAdapter(): MDCAdapter = mdc

    override fun getRequestedApiVersion(): String = "2.0.99"

    override fun initialize() {}
}

/** The JVM option that makes a test worker forward whole records through [ForwardingProvider]. */
val FORWARDING: String = "-Dslf4j.provider=" + ForwardingProvider::class.java.name

private class ForwardingLogger(name: String) : AbstractLogger() {
    init {
        this.name = name
    }

    private fun on(level: Level) = level.toInt() >= Level.INFO.toInt()

    override fun isTraceEnabled() = false

    override fun isTraceEnabled(marker: Marker?) = false

    override fun isDebugEnabled() = false

    override fun isDebugEnabled(marker: Marker?) = false

    override fun isInfoEnabled() = true

    override fun isInfoEnabled(marker: Marker?) = true

    override fun isWarnEnabled() = true

    override fun isWarnEnabled(marker: Marker?) = true

    override fun isErrorEnabled() = true

    override fun isErrorEnabled(marker: Marker?) = true

    override fun getFullyQualifiedCallerName(): String? = null

    override fun handleNormalizedLoggingCall(level: Level, marker: Marker?, pattern: String?, args: Array<out Any?>?, t: Throwable?) {
        if (!on(level)) return
        val record = LogRecord.capture(level.toInt(), name, pattern, args, t, MDC.getCopyOfContextMap())
        if (!LogForwarding.forward(record)) System.err.println("${level.name} $name - ${record.message}")
    }
}
