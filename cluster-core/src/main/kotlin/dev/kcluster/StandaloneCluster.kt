package dev.kcluster

import dev.kcluster.internal.standalone.StandaloneRuntime
import kotlinx.coroutines.flow.Flow

/**
 * The in-process watcher side of standalone mode, for front ends that run a program's watcher part and its worker part in one JVM (the
 * DSL's `--standalone`). After [enable], [Cluster.channel] works standalone: what the program sends arrives in [fromWorker], and [toWorker]
 * delivers to it.
 */
@InternalKclusterApi
public object StandaloneCluster {
    /** Turns the in-process channel on. */
    public fun enable(): Unit = StandaloneRuntime.enableLoopback()

    /** Messages the in-process worker sent; the rules of [ClusterWatcher.messages] apply. */
    public val fromWorker: Flow<Message>
        get() = StandaloneRuntime.fromWorker

    /** Ends [fromWorker]: its collectors finish what they have, then complete. */
    public fun endMessages(): Unit = StandaloneRuntime.endMessages()

    /** Delivers [message] to the in-process worker's [Cluster.channel]. */
    public fun toWorker(message: Message): Unit = StandaloneRuntime.toWorker(message)
}
