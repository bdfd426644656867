package dev.kcluster.internal.metrics

import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.InternalKclusterApi
import java.net.InetSocketAddress
import java.util.ServiceLoader
import java.util.concurrent.atomic.LongAdder

/**
 * The hook the `cluster-metrics` module plugs into (found with [ServiceLoader]), so that core needs no Micrometer: the watcher starts its
 * endpoint through it, and each worker its registry and shipper.
 */
@InternalKclusterApi
public interface MetricsExtension {
    /** Starts serving [watcher]'s metrics at [address]; throws (a taken port) to refuse the start. */
    public fun startWatcher(watcher: ClusterWatcher, address: InetSocketAddress): WatcherMetrics

    /** In a worker JVM: records its meters and calls [send] with a snapshot every [intervalMillis]. */
    public fun startWorker(workerId: Int, intervalMillis: Long, send: (ByteArray) -> Boolean)

    public companion object {
        /** Set in a worker's environment (the interval in ms) when the watcher serves metrics. */
        public const val ENV_INTERVAL: String = "KCLUSTER_METRICS_INTERVAL"

        /** The installed extension, or null when `cluster-metrics` is not on the classpath. */
        public fun load(): MetricsExtension? =
            ServiceLoader.load(MetricsExtension::class.java, MetricsExtension::class.java.classLoader).firstOrNull()
    }
}

/** The watcher side of [MetricsExtension]: takes each worker's METRICS payloads; closing stops the endpoint. */
@InternalKclusterApi
public interface WatcherMetrics : AutoCloseable {
    /** Called on [worker]'s IPC reader thread: must not block. */
    public fun accept(worker: ClusterWorker, payload: ByteArray)
}

/** IPC frames and bytes read and written by this JVM (every connection), counted cheaply. */
@InternalKclusterApi
public object IpcCounters {
    public val framesRead: LongAdder = LongAdder()
    public val bytesRead: LongAdder = LongAdder()
    public val framesWritten: LongAdder = LongAdder()
    public val bytesWritten: LongAdder = LongAdder()

    internal fun read(payload: Int) {
        framesRead.increment()
        bytesRead.add(payload + 5L)
    }

    internal fun written(payload: Int) {
        framesWritten.increment()
        bytesWritten.add(payload + 5L)
    }
}
