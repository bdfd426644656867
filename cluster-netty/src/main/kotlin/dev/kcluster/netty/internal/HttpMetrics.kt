package dev.kcluster.netty.internal

import dev.kcluster.metrics.ClusterMetrics
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.Timer
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * HTTP meters in [ClusterMetrics.registry]: `http_server_requests_seconds` (a histogram by status) and `http_server_connections` (open
 * connections). On only in a worker whose cluster serves metrics with cluster-metrics on the classpath; otherwise every call is a no-op and
 * Micrometer is never loaded.
 */
internal object HttpMetrics {
    @JvmField
    val enabled: Boolean =
        System.getenv("KCLUSTER_METRICS_INTERVAL") != null && runCatching { Class.forName("dev.kcluster.metrics.ClusterMetrics") }.isSuccess

    private val meters: Meters? = if (enabled) Meters() else null

    fun opened() {
        meters?.open?.incrementAndGet()
    }

    fun closed() {
        meters?.open?.decrementAndGet()
    }

    fun record(status: Int, nanos: Long) {
        meters?.record(status, nanos)
    }

    private class Meters {
        val open = AtomicInteger()
        private val timers = ConcurrentHashMap<Int, Timer>()
        private val registry = ClusterMetrics.registry

        init {
            Gauge.builder("http.server.connections", open) { it.get().toDouble() }.description("Open HTTP connections").register(registry)
        }

        fun record(status: Int, nanos: Long) {
            timers
                .computeIfAbsent(status) { s ->
                    Timer.builder("http.server.requests")
                        .description("HTTP requests served, by status")
                        .tag("status", s.toString())
                        .serviceLevelObjectives(*BUCKETS)
                        .register(registry)
                }
                .record(nanos, TimeUnit.NANOSECONDS)
        }
    }

    private val BUCKETS: Array<Duration> =
        arrayOf(1L, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000).map { Duration.ofMillis(it) }.toTypedArray()
}
