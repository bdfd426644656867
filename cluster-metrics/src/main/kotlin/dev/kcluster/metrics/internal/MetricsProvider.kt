package dev.kcluster.metrics.internal

import dev.kcluster.ClusterWatcher
import dev.kcluster.internal.metrics.MetricsExtension
import dev.kcluster.internal.metrics.WatcherMetrics
import java.net.InetSocketAddress

/** Found by cluster-core through `META-INF/services`: plugs this module into the watcher and the workers. */
public class MetricsProvider : MetricsExtension {
    override fun startWatcher(watcher: ClusterWatcher, address: InetSocketAddress): WatcherMetrics = WatcherEndpoint(watcher, address)

    override fun startWorker(workerId: Int, intervalMillis: Long, send: (ByteArray) -> Boolean) {
        WorkerMeters.start(intervalMillis, send)
    }
}
