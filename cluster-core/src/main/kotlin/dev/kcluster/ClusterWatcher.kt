package dev.kcluster

import dev.kcluster.internal.supervisor.RealClusterWatcher
import java.net.InetSocketAddress
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow

/**
 * Starts worker JVMs, keeps them healthy, and carries messages and sockets to and from them.
 *
 * ```kotlin
 * val watcher = ClusterWatcher(WatcherConfig("com.example.Server"))
 * watcher.start(4)
 * watcher.messages.collect { m -> m.worker.send("ack") }
 * ```
 */
public interface ClusterWatcher : AutoCloseable {
    /** The configuration. */
    public val config: WatcherConfig

    /** The live workers, in slot order (a snapshot). */
    public val workers: List<ClusterWorker>

    /**
     * Messages from all workers. Completes after [stop], once every worker's last message is in.
     *
     * Every active collector gets every message. While nobody collects, messages wait for the first collector, up to
     * [WatcherConfig.messageBufferCount] messages and [WatcherConfig.messageBufferBytes] bytes; the same bound applies to each collector
     * that falls behind. A message that does not fit is dropped and counted in [droppedMessages], and the watcher logs one warning when
     * dropping starts. (Workers are never slowed down: their messages arrive on the thread that answers heartbeats.) A collector that ends
     * while it is the only one hands back what it had not taken, so `first { }` followed by `collect { }` loses nothing.
     */
    public val messages: Flow<WorkerMessage>

    /** How many worker messages were dropped because nothing consumed them fast enough (see [messages]). */
    public val droppedMessages: Long

    /**
     * Lifecycle events; subscribe before [start] to see them all. Events are never held back for a slow subscriber: one that falls 4,096
     * events behind makes the watcher drop new events (counted, and logged once) rather than block.
     */
    public val events: SharedFlow<ClusterEvent>

    /** The watcher's phase and its workers with their states, updated on every change. */
    public val state: StateFlow<ClusterState>

    /** The listening sockets the watcher holds for its workers, with their actual ports. */
    public val listeningAddresses: List<InetSocketAddress>

    /**
     * Launches [count] workers and waits until all are READY.
     *
     * @throws ClusterException when a worker fails before READY (all workers are then stopped).
     * @throws IllegalStateException when called twice.
     */
    public suspend fun start(count: Int)

    /**
     * Stops every worker gracefully: STOP, then after [ClusterWatcher.config]'s stop timeout SIGTERM, then SIGKILL. Idempotent; a
     * concurrent call waits for the first.
     */
    public suspend fun stop()

    /** Replaces every worker, one at a time, each only after its replacement is READY; rolls back on failure. */
    public suspend fun restart(): RestartResult

    /** Grows or shrinks the cluster to [count] workers. */
    public suspend fun scale(count: Int)

    /** Sends [message] to every connected worker; returns how many it reached. */
    public fun broadcast(message: Message): Int

    /** Suspends until the watcher has stopped; returns the failure that stopped it, or null for a requested stop. */
    public suspend fun awaitTermination(): Throwable?

    /** Stops the watcher, blocking ([stop] for non-coroutine callers). */
    override fun close()

    public companion object {
        /** A watcher for [config]; nothing starts before [start]. */
        @JvmStatic public fun create(config: WatcherConfig): ClusterWatcher = RealClusterWatcher(config)
    }
}

/** A watcher for [config]; nothing starts before [ClusterWatcher.start]. */
public fun ClusterWatcher(config: WatcherConfig): ClusterWatcher = RealClusterWatcher(config)

/** Sends [value] to every connected worker. */
public inline fun <reified T> ClusterWatcher.broadcast(value: T): Int = broadcast(Message.of(value))
