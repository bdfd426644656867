package dev.kcluster.metrics.internal

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics
import io.micrometer.core.instrument.binder.system.ProcessorMetrics
import io.micrometer.core.instrument.binder.system.UptimeMetrics
import io.micrometer.prometheusmetrics.PrometheusConfig
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.slf4j.LoggerFactory

/** The worker side: one registry per JVM, and the thread that ships its snapshots. */
internal object WorkerMeters {
    val registry: PrometheusMeterRegistry by lazy { PrometheusMeterRegistry(PrometheusConfig.DEFAULT) }
    @Volatile
    var shipping: Boolean = false
        private set

    /** Binds the JVM meters and ships a snapshot every [intervalMillis] through [send]. */
    fun start(intervalMillis: Long, send: (ByteArray) -> Boolean) {
        val r = registry
        ClassLoaderMetrics().bindTo(r)
        JvmMemoryMetrics().bindTo(r)
        JvmGcMetrics().bindTo(r) // its notification listener lives as long as the JVM, like the registry
        JvmThreadMetrics().bindTo(r)
        ProcessorMetrics().bindTo(r)
        UptimeMetrics().bindTo(r)
        shipping = true
        val log = LoggerFactory.getLogger("dev.kcluster.metrics")
        val timer = Executors.newSingleThreadScheduledExecutor { Thread(it, "kcluster-metrics").apply { isDaemon = true } }
        timer.scheduleWithFixedDelay(
            {
                try {
                    if (!send(SnapshotCodec.encode(r.prometheusRegistry.scrape()))) timer.shutdown()
                } catch (e: Exception) {
                    log.warn("cannot ship metrics: {}", e.toString())
                }
            },
            0,
            intervalMillis,
            TimeUnit.MILLISECONDS,
        )
    }
}
