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

    /**
     * The watchers of this watcher's group ([WatcherConfig.group]), sorted by [GroupMember.id], updated on every change; without a group,
     * this watcher alone. While ZooKeeper is unreachable it keeps the last list seen.
     */
    public val hosts: StateFlow<List<GroupMember>>

    /**
     * With [allHosts] false, the same as [broadcast]. With [allHosts] true, sends [message] to the serving workers of every host of the
     * group, this one included: each host delivers it once to its connected workers (standbys get no broadcasts), in the order it was sent.
     * It blocks until ZooKeeper has stored it (a few ms) and returns how many hosts the group has; delivery is asynchronous. A host that
     * joins later does not get it. It is for control messages: the payload ([Message.size]) holds at most
     * [GroupConfig.MAX_BROADCAST_BYTES], and each watcher may send [GroupConfig.BROADCASTS_PER_SECOND] per second (bursts of
     * [GroupConfig.BROADCAST_BURST]). Without a group it is the local [broadcast] under the same limits, and returns 1.
     *
     * @throws IllegalArgumentException when the payload is larger than 64 KiB.
     * @throws IllegalStateException past the rate limit, when ZooKeeper is not connected (degraded mode), or before [start]; nothing is
     *   sent then.
     */
    public fun broadcast(message: Message, allHosts: Boolean): Int

    /**
     * Restarts every host of the group, one host at a time: each host runs its own rolling restart (readiness-gated, rolling back as
     * [restart] does) while it holds the group's reload lock, so at most one host is restarting at any moment. A host that rolls back stops
     * the roll: the hosts after it are [HostRestart.Outcome.SKIPPED]. A member that dies or leaves meanwhile counts as
     * [HostRestart.Outcome.GONE] and does not hold up the others. Returns one entry per member of the group when it started, in the order
     * they finished. Without a group, this host alone ([restart]).
     *
     * @throws IllegalStateException when ZooKeeper is not connected or the watcher is not running.
     */
    public suspend fun restartAllHosts(): List<HostRestart>

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

/** Sends [value] to every connected worker, of every host when [allHosts] (see [ClusterWatcher.broadcast]). */
public inline fun <reified T> ClusterWatcher.broadcast(value: T, allHosts: Boolean): Int = broadcast(Message.of(value), allHosts)
