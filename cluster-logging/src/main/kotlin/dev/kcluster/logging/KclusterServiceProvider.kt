package dev.kcluster.logging

import dev.kcluster.logging.internal.KclusterLoggerFactory
import org.slf4j.ILoggerFactory
import org.slf4j.IMarkerFactory
import org.slf4j.helpers.BasicMDCAdapter
import org.slf4j.helpers.BasicMarkerFactory
import org.slf4j.spi.MDCAdapter
import org.slf4j.spi.SLF4JServiceProvider

/**
 * kcluster's SLF4J 2 backend, found through `META-INF/services` when `cluster-logging` is on the classpath. In a worker it forwards whole
 * records (time, level, logger, thread, message, throwable text, MDC) to the watcher; in a watcher or a standalone program it writes one
 * merged stream of lines, configured by [ClusterLog]. With another backend also on the classpath, choose this one with
 * `-Dslf4j.provider=dev.kcluster.logging.KclusterServiceProvider`.
 */
public class KclusterServiceProvider : SLF4JServiceProvider {
    private val factory = KclusterLoggerFactory()
    private val markers = BasicMarkerFactory()
    private val mdc = BasicMDCAdapter()

    override fun getLoggerFactory(): ILoggerFactory = factory

    override fun getMarkerFactory(): IMarkerFactory = markers

    override fun getMDCAdapter(): MDCAdapter = mdc

    override fun getRequestedApiVersion(): String = "2.0.99"

    override fun initialize() {
        dev.kcluster.internal.log.LogOutput.reopener = { dev.kcluster.logging.internal.MergedLog.reopen() }
    }
}
