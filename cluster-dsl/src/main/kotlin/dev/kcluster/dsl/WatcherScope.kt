package dev.kcluster.dsl

import dev.kcluster.ClusterWorker
import dev.kcluster.Message
import dev.kcluster.RestartResult
import dev.kcluster.dsl.internal.Control
import java.net.InetSocketAddress
import org.slf4j.Logger
import org.slf4j.LoggerFactory

/**
 * What watcher-side handlers (`onMessage`, `onWorkerExit`, `onEvent`, `onStarted`) run with. Handlers are coroutines under one scope,
 * cancelled once the cluster has stopped.
 */
@ClusterDsl
public class WatcherScope internal constructor(private val control: Control) {
    /** The live workers, in slot order (a snapshot). */
    public val workers: List<ClusterWorker>
        get() = control.workers

    /** The listening sockets the workers share, with their actual ports (standalone: the ones bound in-process). */
    public val listeningAddresses: List<InetSocketAddress>
        get() = control.listeningAddresses

    /** The watcher's logger (`dev.kcluster.dsl.watcher`). */
    public val log: Logger = LoggerFactory.getLogger("dev.kcluster.dsl.watcher")

    /** True when this is a `--standalone` run: one in-process worker, no restarts. */
    public val isStandalone: Boolean
        get() = control.standalone

    /** Sends [message] to every worker; returns how many it reached. */
    public fun broadcast(message: Message): Int = control.broadcast(message)

    /** Sends [value] (kotlinx-serialization) to every worker; returns how many it reached. */
    public inline fun <reified T> broadcast(value: T): Int = broadcast(Message.of(value))

    /**
     * Sends [message] to every worker, of every host of the group when [allHosts] (see `ClusterWatcher.broadcast(message, allHosts)`: at
     * most 64 KiB, rate limited); standalone, the local broadcast.
     */
    public fun broadcast(message: Message, allHosts: Boolean): Int =
        if (allHosts) control.broadcastAllHosts(message) else control.broadcast(message)

    /**
     * Replaces every worker, one at a time, each after its replacement is READY (see [RestartSpec.rolling]).
     *
     * @throws UnsupportedOperationException when standalone.
     */
    public suspend fun restart(): RestartResult = control.restart()

    /** Grows or shrinks the cluster to [count] workers. @throws UnsupportedOperationException when standalone. */
    public suspend fun scale(count: Int): Unit = control.scale(count)

    /** Asks the cluster to stop gracefully and returns at once; the handlers are cancelled once it has stopped. */
    public fun stop(): Unit = control.stop()
}
