package dev.kcluster.metrics

import dev.kcluster.metrics.internal.WorkerMeters
import io.micrometer.core.instrument.MeterRegistry

/**
 * This process's Micrometer registry: register your own meters here. In a worker of a cluster that serves metrics (`--metrics`,
 * [dev.kcluster.WatcherConfig.metricsAddress]) it also holds JVM memory, GC, thread and process CPU meters (and cluster-netty's HTTP
 * meters), and the watcher serves all of it, labelled `worker` and `slot`. Elsewhere it is a registry nothing reads.
 *
 * It lives in this module, not on `Cluster`, so that cluster-core needs no Micrometer.
 */
public object ClusterMetrics {
    /** The registry (a plain [MeterRegistry]); the same instance for the life of the process. */
    @JvmStatic
    public val registry: MeterRegistry
        get() = WorkerMeters.registry

    /** True when this process ships its meters to a watcher that serves them. */
    @JvmStatic
    public val isShipping: Boolean
        get() = WorkerMeters.shipping
}
