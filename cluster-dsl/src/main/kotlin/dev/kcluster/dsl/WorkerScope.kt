package dev.kcluster.dsl

import dev.kcluster.Cluster
import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWorker
import dev.kcluster.ExitReason
import dev.kcluster.Leadership
import dev.kcluster.ListenOptions
import dev.kcluster.Message
import dev.kcluster.dsl.internal.WorkerBackend
import java.nio.channels.ServerSocketChannel
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import org.slf4j.Logger
import org.slf4j.LoggerFactory

/**
 * What the `worker { }` block runs with, in every worker process (and once, in-process, standalone). It is a [CoroutineScope]: a coroutine
 * launched in it that fails makes the worker fail (it is respawned); when the block returns, the coroutines it launched are cancelled, then
 * the server sockets it took are closed (ending blocked `accept` calls). Wrap blocking calls in `runInterruptible { }` so they cancel. When
 * the block returns, the worker has finished: it exits, and the watcher does not replace it.
 */
@ClusterDsl
public class WorkerScope
internal constructor(
    private val backend: WorkerBackend,
    /** The arguments the program was started with (without `--standalone`). */
    public val args: List<String>,
    override val coroutineContext: CoroutineContext,
) : CoroutineScope {
    /** This worker's id (1, 2, …; a replacement gets a new id); 0 when standalone. */
    public val workerId: Int
        get() = backend.workerId

    /** True when running `--standalone`, without a watcher. */
    public val isStandalone: Boolean
        get() = backend.standalone

    /** This worker's logger (`dev.kcluster.dsl.worker`); its records reach the watcher's merged log. */
    public val log: Logger = LoggerFactory.getLogger("dev.kcluster.dsl.worker")

    /**
     * A listening socket on [address] (`host:port`, port 0 for any): the watcher's shared socket in a worker, a local one standalone.
     * Taking the first one makes the worker READY.
     */
    public fun serverSocket(address: String, options: ListenOptions = ListenOptions.DEFAULT): ServerSocketChannel =
        backend.listen(address, options).also { sockets += it }

    private val sockets = java.util.concurrent.CopyOnWriteArrayList<ServerSocketChannel>()

    internal fun closeSockets() {
        for (s in sockets) runCatching { s.close() }
    }

    /** Tells the watcher this worker can take traffic (needed only when no server socket is taken). */
    public fun ready(): Unit = backend.ready()

    /** Suspends until this worker should stop: the watcher's STOP or its loss; standalone, SIGTERM/SIGINT/SIGHUP. */
    public suspend fun awaitTermination(): Unit = backend.awaitTermination()

    /** Sends [message] to the watcher (standalone, to the `onMessage` handlers in this process). */
    public fun send(message: Message): Unit = backend.send(message)

    /** Sends [value] (kotlinx-serialization) to the watcher. */
    public inline fun <reified T> send(value: T): Unit = send(Message.of(value))

    /** Messages from the watcher; completes when the connection ends. Collect it once, or use [receive]. */
    public val incoming: Flow<Message>
        get() = backend.incoming

    /** The next message from the watcher; null once the watcher is gone. */
    public suspend fun receive(): Message? = backend.receive()

    /**
     * This worker's share of the group's leadership (`Cluster.leadership`): set only when the watchers coordinate (`cluster-zookeeper`);
     * otherwise, and standalone, always [Leadership.NONE].
     */
    public val leadership: StateFlow<Leadership>
        get() = Cluster.leadership

    /**
     * Runs [handler] with [leadership] now and on every change, in order, in this scope (it ends with the `worker { }` block). Start or
     * stop the leader's job here, and pass `epoch` along to fence it.
     */
    public fun onLeadership(handler: suspend WorkerScope.(Leadership) -> Unit): Job = launch { leadership.collect { handler(it) } }

    /** Stops this worker for good: [awaitTermination] returns and the watcher does not replace it. */
    public fun stop(): Unit = backend.stop()

    // Watcher-only verbs, shadowed so a call inside worker { } fails to compile with the fix.

    /** Not available here. */
    @Deprecated("workers(n) configures the watcher: call it in cluster { }, outside worker { }", level = DeprecationLevel.ERROR)
    public fun workers(count: Int): Nothing = watcherOnly("workers(n)")

    /** Not available here. */
    @Deprecated("jvmOptions(…) configures the watcher: call it in cluster { }, outside worker { }", level = DeprecationLevel.ERROR)
    public fun jvmOptions(vararg options: String): Nothing = watcherOnly("jvmOptions(…)")

    /** Not available here. */
    @Deprecated(
        "restart { } configures the watcher: call it in cluster { }; to restart at run time, call restart() in a watcher handler such as onMessage",
        level = DeprecationLevel.ERROR,
    )
    public fun restart(block: RestartSpec.() -> Unit): Nothing = watcherOnly("restart { }")

    /** Not available here. */
    @Deprecated(
        "onMessage handlers run in the watcher: declare them in cluster { }, outside worker { }; a worker reads the watcher's messages with receive() or incoming",
        level = DeprecationLevel.ERROR,
    )
    public inline fun <reified T> onMessage(noinline handler: suspend WatcherScope.(ReceivedMessage<T>) -> Unit): Nothing =
        throw IllegalStateException("onMessage belongs in cluster { }, outside worker { }")

    /** Not available here. */
    @Deprecated("onWorkerExit runs in the watcher: declare it in cluster { }, outside worker { }", level = DeprecationLevel.ERROR)
    public fun onWorkerExit(handler: suspend WatcherScope.(ClusterWorker, ExitReason) -> Unit): Nothing = watcherOnly("onWorkerExit")

    /** Not available here. */
    @Deprecated("onEvent runs in the watcher: declare it in cluster { }, outside worker { }", level = DeprecationLevel.ERROR)
    public fun onEvent(handler: suspend WatcherScope.(ClusterEvent) -> Unit): Nothing = watcherOnly("onEvent")

    /** Not available here. */
    @Deprecated(
        "worker { } blocks do not nest: a cluster has one worker { } block, directly in cluster { }",
        level = DeprecationLevel.ERROR,
    )
    public fun worker(block: suspend WorkerScope.() -> Unit): Nothing = watcherOnly("worker { }")

    private fun watcherOnly(what: String): Nothing =
        throw IllegalStateException("$what configures the watcher; call it in cluster { }, outside worker { }")
}
