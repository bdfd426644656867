package dev.kcluster

/**
 * What a worker reports about its load with every heartbeat answer (about once a [WatcherConfig.heartbeatInterval]), plus its resident
 * memory read by the watcher from `/proc`.
 */
public class WorkerLoad(
    /** Requests served since the worker started ([Cluster.countRequest]; cluster-netty counts HTTP requests itself). */
    public val requests: Long,
    /** Client connections open now ([Cluster.connectionOpened] / [Cluster.connectionClosed]; automatic in cluster-netty). */
    public val openConnections: Int,
    /** Heap in use after the last garbage collection, in bytes (0 before the first one). */
    public val heapUsedAfterGc: Long,
    /** Resident set size in bytes, or 0 when it cannot be read. */
    public val rssBytes: Long,
) {
    override fun toString(): String =
        "WorkerLoad(requests=$requests, connections=$openConnections, heapAfterGc=$heapUsedAfterGc, rss=$rssBytes)"

    public companion object {
        /** Nothing reported yet. */
        @JvmField public val NONE: WorkerLoad = WorkerLoad(0, 0, 0, 0)
    }
}
