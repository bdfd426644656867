package dev.kcluster.metrics.internal

import com.sun.net.httpserver.HttpServer
import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.WorkerState
import dev.kcluster.internal.metrics.IpcCounters
import dev.kcluster.internal.metrics.WatcherMetrics
import io.micrometer.core.instrument.Counter
import io.micrometer.core.instrument.FunctionCounter
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.Timer
import io.micrometer.prometheusmetrics.PrometheusConfig
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry
import io.prometheus.metrics.expositionformats.ExpositionFormats
import io.prometheus.metrics.model.registry.MultiCollector
import io.prometheus.metrics.model.snapshots.CounterSnapshot
import io.prometheus.metrics.model.snapshots.GaugeSnapshot
import io.prometheus.metrics.model.snapshots.HistogramSnapshot
import io.prometheus.metrics.model.snapshots.InfoSnapshot
import io.prometheus.metrics.model.snapshots.Labels
import io.prometheus.metrics.model.snapshots.MetricSnapshot
import io.prometheus.metrics.model.snapshots.MetricSnapshots
import io.prometheus.metrics.model.snapshots.SummarySnapshot
import java.io.ByteArrayOutputStream
import java.net.InetSocketAddress
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import org.slf4j.LoggerFactory

/**
 * The watcher's endpoint: its own meters (workers by state, restarts by cause, crashes, IPC frames and bytes, standby count, reload
 * duration) in a Micrometer registry, plus every live worker's last snapshot, labelled `worker` and `slot`, through a Prometheus
 * [MultiCollector]. Served over HTTP at any path (`/metrics` by convention) in the format the scraper asks for (text by default).
 */
internal class WatcherEndpoint(private val watcher: ClusterWatcher, address: InetSocketAddress) : WatcherMetrics {
    private val log = LoggerFactory.getLogger("dev.kcluster.metrics")
    private val registry = PrometheusMeterRegistry(PrometheusConfig.DEFAULT)
    private val latest = ConcurrentHashMap<Int, List<MetricSnapshot>>()
    private val badPayloads = ConcurrentHashMap.newKeySet<Int>()
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val formats = ExpositionFormats.init()
    private val server: HttpServer = HttpServer.create(address, 64) // throws BindException for a taken port
    private val ownNames: Set<String>

    init {
        for (state in WorkerState.entries) {
            Gauge.builder("kcluster.workers") { watcher.state.value.workers.count { it.state == state }.toDouble() }
                .description("Workers by state")
                .tag("state", state.name.lowercase())
                .register(registry)
        }
        Gauge.builder("kcluster.standby.workers") { watcher.state.value.workers.count { it.state == WorkerState.STANDBY }.toDouble() }
            .description("Warm standby workers")
            .register(registry)
        for ((dir, frames, bytes) in
            listOf(
                Triple("read", IpcCounters.framesRead, IpcCounters.bytesRead),
                Triple("written", IpcCounters.framesWritten, IpcCounters.bytesWritten),
            )) {
            FunctionCounter.builder("kcluster.ipc.frames", frames) { it.sum().toDouble() }
                .description("IPC frames the watcher read or wrote")
                .tag("direction", dir)
                .register(registry)
            FunctionCounter.builder("kcluster.ipc.bytes", bytes) { it.sum().toDouble() }
                .description("IPC bytes (headers included) the watcher read or wrote")
                .tag("direction", dir)
                .baseUnit("bytes")
                .register(registry)
        }
        val crashes =
            Counter.builder("kcluster.worker.crashes").description("Workers that exited without being asked to").register(registry)
        fun restarts(cause: String) =
            Counter.builder("kcluster.worker.restarts").description("Workers replaced, by cause").tag("cause", cause).register(registry)
        val byCause = listOf("crash", "recycle", "reload").associateWith(::restarts)
        val reloads = Timer.builder("kcluster.reload.duration").description("Rolling restarts (reloads), start to end").register(registry)
        ownNames = registry.prometheusRegistry.scrape().map { it.metadata.prometheusName }.toSet()
        var reloadStarted = 0L
        scope.launch {
            watcher.events.collect { e ->
                when (e) {
                    is ClusterEvent.WorkerExited -> {
                        latest.remove(e.worker.id)
                        badPayloads.remove(e.worker.id)
                        if (!e.reason.expected) crashes.increment()
                    }
                    is ClusterEvent.WorkerRespawned -> byCause.getValue("crash").increment()
                    is ClusterEvent.WorkerRecycling -> byCause.getValue("recycle").increment()
                    is ClusterEvent.RestartStarted -> reloadStarted = System.nanoTime()
                    is ClusterEvent.RestartFinished -> {
                        byCause.getValue("reload").increment(e.result.replaced.toDouble())
                        if (reloadStarted != 0L) reloads.record(System.nanoTime() - reloadStarted, TimeUnit.NANOSECONDS)
                        reloadStarted = 0L
                    }
                    else -> {}
                }
            }
        }
        registry.prometheusRegistry.register(MultiCollector { merged() })
        server.createContext("/") { ex ->
            try {
                val writer = formats.findWriter(ex.requestHeaders.getFirst("Accept"))
                val body = ByteArrayOutputStream(64 * 1024)
                writer.write(body, registry.prometheusRegistry.scrape())
                ex.responseHeaders.set("Content-Type", writer.contentType)
                ex.sendResponseHeaders(200, body.size().toLong())
                ex.responseBody.use { body.writeTo(it) }
            } catch (e: Exception) {
                log.warn("metrics scrape failed: {}", e.toString())
                runCatching { ex.sendResponseHeaders(500, -1) }
            } finally {
                ex.close()
            }
        }
        server.executor = Executors.newSingleThreadExecutor { Thread(it, "kcluster-metrics-http").apply { isDaemon = true } }
        server.start()
        log.info("metrics at http://{}:{}/metrics", address.hostString, server.address.port)
    }

    /** The port actually bound (for port 0). */
    val port: Int
        get() = server.address.port

    override fun accept(worker: ClusterWorker, payload: ByteArray) {
        try {
            latest[worker.id] = SnapshotCodec.decode(payload, Labels.of("worker", worker.id.toString(), "slot", worker.slot.toString()))
        } catch (e: Exception) {
            if (badPayloads.add(worker.id))
                log.warn("worker {}: unreadable METRICS frame ({}); its series are not served", worker.id, e.toString())
        }
    }

    /** One snapshot per metric name with every live worker's data points; a name the watcher uses itself is skipped. */
    private fun merged(): MetricSnapshots {
        val byName = LinkedHashMap<String, MutableList<MetricSnapshot>>()
        // Copied by toArray() first: sortedBy() on a map of one would read its size, then call next() on an iterator that a worker's
        // exit may have emptied meanwhile.
        for ((_, snaps) in ArrayList(latest.entries).sortedBy { it.key }) {
            for (s in snaps) {
                if (s.metadata.prometheusName in ownNames) continue
                byName.getOrPut(s.metadata.prometheusName) { ArrayList() } += s
            }
        }
        val out = ArrayList<MetricSnapshot>(byName.size)
        for ((_, group) in byName) {
            val first = group[0]
            val same = group.filter { it.javaClass == first.javaClass }
            @Suppress("UNCHECKED_CAST")
            out +=
                when (first) {
                    is CounterSnapshot -> CounterSnapshot(first.metadata, same.flatMap { (it as CounterSnapshot).dataPoints })
                    is GaugeSnapshot -> GaugeSnapshot(first.metadata, same.flatMap { (it as GaugeSnapshot).dataPoints })
                    is HistogramSnapshot -> HistogramSnapshot(first.metadata, same.flatMap { (it as HistogramSnapshot).dataPoints })
                    is SummarySnapshot -> SummarySnapshot(first.metadata, same.flatMap { (it as SummarySnapshot).dataPoints })
                    is InfoSnapshot -> InfoSnapshot(first.metadata, same.flatMap { (it as InfoSnapshot).dataPoints })
                    else -> continue
                }
        }
        return MetricSnapshots(out)
    }

    override fun close() {
        scope.cancel()
        server.stop(0)
        (server.executor as? java.util.concurrent.ExecutorService)?.shutdownNow()
        registry.close()
    }
}
