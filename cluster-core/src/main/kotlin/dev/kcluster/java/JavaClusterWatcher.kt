package dev.kcluster.java

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterException
import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.ExitReason
import dev.kcluster.GroupMember
import dev.kcluster.HostRestart
import dev.kcluster.Message
import dev.kcluster.MessageCodec
import dev.kcluster.RestartResult
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import java.net.InetSocketAddress
import java.util.concurrent.CompletableFuture
import java.util.concurrent.Flow
import java.util.function.BiConsumer
import java.util.function.Consumer
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.future.future
import kotlinx.coroutines.jdk9.asPublisher
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * A [ClusterWatcher] for Java: `CompletableFuture` and blocking twins for every lifecycle call, listeners for messages and events, and a
 * `java.util.concurrent.Flow.Publisher` of messages.
 *
 * Listeners run one at a time, in order, on a kcluster-owned thread; a listener that throws is logged and stays registered. Each message
 * listener and each `messages()` subscriber is a collector of [ClusterWatcher.messages], with its rules: every listener gets every message,
 * and messages that arrive while nobody listens wait (bounded) for the first listener.
 *
 * ```java
 * WatcherConfig config = WatcherConfig.builder("com.example.Server").jvmOptions("-Xmx256m").build();
 * try (JavaClusterWatcher watcher = JavaClusterWatcher.create(config)) {
 *     watcher.onMessage(m -> System.out.println(m.getWorker().getId() + ": " + m.getMessage().asString()));
 *     watcher.startBlocking(4);
 *     watcher.broadcast("hello");
 *     watcher.awaitTerminationBlocking();
 * }
 * ```
 */
public class JavaClusterWatcher private constructor(private val watcher: ClusterWatcher) : AutoCloseable {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("kcluster-java"))
    private val listenerThread = Listeners.thread("kcluster-java-listeners")
    private val listenerDispatcher = listenerThread.asCoroutineDispatcher()

    /** The wrapped watcher, for Kotlin code. */
    public fun unwrap(): ClusterWatcher = watcher

    /** The configuration. */
    public fun config(): WatcherConfig = watcher.config

    /** The live workers, in slot order (a snapshot). */
    public fun workers(): List<ClusterWorker> = watcher.workers

    /** The listening sockets the watcher holds for its workers, with their actual ports. */
    public fun listeningAddresses(): List<InetSocketAddress> = watcher.listeningAddresses

    /** Launches [count] workers; completes when all are READY, or exceptionally with a [ClusterException]. */
    public fun start(count: Int): CompletableFuture<Void?> =
        scope.future<Void?> {
            watcher.start(count)
            null
        }

    /**
     * Launches [count] workers and blocks until all are READY.
     *
     * @throws ClusterException when a worker fails before READY (all workers are then stopped).
     * @throws IllegalStateException when called twice.
     */
    @Throws(ClusterException::class, InterruptedException::class)
    public fun startBlocking(count: Int): Unit = runBlocking { watcher.start(count) }

    /** Stops every worker gracefully (STOP, then SIGTERM, then SIGKILL); completes when all are gone. Idempotent. */
    public fun stop(): CompletableFuture<Void?> =
        scope.future<Void?> {
            watcher.stop()
            null
        }

    /** [stop], blocking. */
    @Throws(InterruptedException::class) public fun stopBlocking(): Unit = runBlocking { watcher.stop() }

    /** Replaces every worker, one at a time, each after its replacement is READY; rolls back on failure. */
    public fun restart(): CompletableFuture<RestartResult> = scope.future { watcher.restart() }

    /** [restart], blocking. @throws IllegalStateException when the watcher is not running. */
    @Throws(InterruptedException::class) public fun restartBlocking(): RestartResult = runBlocking { watcher.restart() }

    /** Grows or shrinks the cluster to [count] workers; completes when added workers are READY or removed ones gone. */
    public fun scale(count: Int): CompletableFuture<Void?> =
        scope.future<Void?> {
            watcher.scale(count)
            null
        }

    /** [scale], blocking. @throws ClusterException when an added worker fails before READY. */
    @Throws(ClusterException::class, InterruptedException::class)
    public fun scaleBlocking(count: Int): Unit = runBlocking { watcher.scale(count) }

    /** Replaces [worker] alone: its successor is READY first, then it drains ([ClusterWorker.restart]). */
    public fun restartWorker(worker: ClusterWorker): CompletableFuture<RestartResult> = scope.future { worker.restart() }

    /** Stops [worker] gracefully and removes its slot ([ClusterWorker.stop]). */
    public fun stopWorker(worker: ClusterWorker): CompletableFuture<Void?> =
        scope.future<Void?> {
            worker.stop()
            null
        }

    /** Kills [worker] with SIGKILL; it is respawned as after a crash ([ClusterWorker.kill]). */
    public fun killWorker(worker: ClusterWorker): Unit = worker.kill()

    /** Completes when the watcher has stopped: with null for a requested stop, else the failure that stopped it. */
    public fun awaitTermination(): CompletableFuture<Throwable?> = scope.future { watcher.awaitTermination() }

    /** [awaitTermination], blocking; returns null for a requested stop, else the failure. */
    @Throws(InterruptedException::class) public fun awaitTerminationBlocking(): Throwable? = runBlocking { watcher.awaitTermination() }

    /** Sends [message] to every connected worker; returns how many it reached. */
    public fun broadcast(message: Message): Int = watcher.broadcast(message)

    /** Sends [text] (a `kotlin.String` message) to every connected worker; returns how many it reached. */
    public fun broadcast(text: String): Int = watcher.broadcast(Message.ofString(text))

    /** Sends [bytes] raw to every connected worker; returns how many it reached. */
    public fun broadcast(bytes: ByteArray): Int = watcher.broadcast(Message.ofBytes(bytes))

    /** Sends [value] encoded with [codec] to every connected worker; returns how many it reached. */
    public fun <T> broadcast(value: T, codec: MessageCodec<T>): Int = watcher.broadcast(Message.of(value, codec))

    /**
     * Sends [message] to the serving workers of every host of the group when [allHosts] (see [ClusterWatcher.broadcast]); returns how many
     * hosts the group has (with [allHosts] false: how many workers it reached here).
     *
     * @throws IllegalArgumentException when the payload is larger than 64 KiB.
     * @throws IllegalStateException past the rate limit or when ZooKeeper is not connected.
     */
    public fun broadcast(message: Message, allHosts: Boolean): Int = watcher.broadcast(message, allHosts)

    /** [broadcast] of [text] (a `kotlin.String` message), to every host when [allHosts]. */
    public fun broadcast(text: String, allHosts: Boolean): Int = watcher.broadcast(Message.ofString(text), allHosts)

    /** The watchers of the group, sorted by id (a snapshot; without a group, this watcher alone). */
    public fun hosts(): List<GroupMember> = watcher.hosts.value

    /** Calls [listener] with [hosts] now and on every change (see [ClusterWatcher.hosts]). */
    public fun onHosts(listener: Consumer<List<GroupMember>>): Registration {
        val job =
            scope.launch(listenerDispatcher, start = CoroutineStart.UNDISPATCHED) {
                watcher.hosts.collect { h -> Listeners.deliver("hosts", h) { listener.accept(it) } }
            }
        return Registration { job.cancel() }
    }

    /** Restarts every host of the group, one host at a time ([ClusterWatcher.restartAllHosts]); completes with one entry per host. */
    public fun restartAllHosts(): CompletableFuture<List<HostRestart>> = scope.future { watcher.restartAllHosts() }

    /** [restartAllHosts], blocking. @throws IllegalStateException when ZooKeeper is not connected or the watcher is not running. */
    @Throws(InterruptedException::class) public fun restartAllHostsBlocking(): List<HostRestart> = runBlocking { watcher.restartAllHosts() }

    /** Calls [listener] with every message from a worker. */
    public fun onMessage(listener: Consumer<WorkerMessage>): Registration {
        val job =
            scope.launch(listenerDispatcher, start = CoroutineStart.UNDISPATCHED) {
                watcher.messages.collect { m -> Listeners.deliver("message", m) { listener.accept(it) } }
            }
        return Registration { job.cancel() }
    }

    /** Calls [listener] with the sender and the decoded value of every message of [codec]'s type; others are skipped. */
    public fun <T> onMessage(codec: MessageCodec<T>, listener: BiConsumer<ClusterWorker, T>): Registration = onMessage { m ->
        if (m.message.type == codec.type) listener.accept(m.worker, m.message.decode(codec))
    }

    /**
     * Messages from all workers as a `java.util.concurrent.Flow.Publisher`; each subscriber is a collector of [ClusterWatcher.messages]
     * from its first `request` on, and completes after the watcher stops.
     */
    public fun messages(): Flow.Publisher<WorkerMessage> = watcher.messages.asPublisher(Dispatchers.Default)

    /** Calls [listener] with every lifecycle event from now on. */
    public fun onEvent(listener: Consumer<ClusterEvent>): Registration {
        val job =
            scope.launch(listenerDispatcher, start = CoroutineStart.UNDISPATCHED) {
                watcher.events.collect { e -> Listeners.deliver("event", e) { listener.accept(it) } }
            }
        return Registration { job.cancel() }
    }

    /** Calls [listener] with every event of type [type] (e.g. `ClusterEvent.WorkerExited.class`). */
    public fun <E : ClusterEvent> onEvent(type: Class<E>, listener: Consumer<E>): Registration = onEvent { e ->
        if (type.isInstance(e)) listener.accept(type.cast(e))
    }

    /** Calls [listener] whenever a worker process ends, with why. */
    public fun onWorkerExit(listener: BiConsumer<ClusterWorker, ExitReason>): Registration =
        onEvent(ClusterEvent.WorkerExited::class.java) { e -> listener.accept(e.worker, e.reason) }

    /** Stops the watcher, blocking, then releases the listener thread. */
    override fun close() {
        watcher.close()
        listenerThread.shutdown()
    }

    public companion object {
        /** A watcher for [config]; nothing starts before [start]. */
        @JvmStatic public fun create(config: WatcherConfig): JavaClusterWatcher = JavaClusterWatcher(ClusterWatcher.create(config))

        /** Wraps an existing [watcher]. */
        @JvmStatic public fun wrap(watcher: ClusterWatcher): JavaClusterWatcher = JavaClusterWatcher(watcher)
    }
}
