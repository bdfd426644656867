package dev.kcluster.testing

import ch.qos.logback.classic.Logger
import ch.qos.logback.classic.spi.ILoggingEvent
import ch.qos.logback.core.UnsynchronizedAppenderBase
import java.util.concurrent.CopyOnWriteArrayList
import org.slf4j.LoggerFactory

/** What a Logback appender received, captured at append time. */
data class Captured(val logger: String, val level: String, val message: String, val mdc: Map<String, String>, val thread: String)

/** A Logback appender that keeps every event; [attach] it to a logger, [detach] it after the test. */
class CapturingAppender : UnsynchronizedAppenderBase<ILoggingEvent>() {
    val events = CopyOnWriteArrayList<Captured>()

    override fun append(e: ILoggingEvent) {
        events += Captured(e.loggerName, e.level.toString(), e.formattedMessage, HashMap(e.mdcPropertyMap), e.threadName)
    }

    fun attach(name: String = Logger.ROOT_LOGGER_NAME) = apply {
        context = (LoggerFactory.getILoggerFactory() as ch.qos.logback.classic.LoggerContext)
        start()
        (LoggerFactory.getLogger(name) as Logger).addAppender(this)
    }

    fun detach(name: String = Logger.ROOT_LOGGER_NAME) {
        (LoggerFactory.getLogger(name) as Logger).detachAppender(this)
        stop()
    }
}
