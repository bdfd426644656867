package dev.kcluster.dsl

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWorker
import dev.kcluster.ExitReason
import dev.kcluster.GroupConfig
import dev.kcluster.MessageCodec
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import kotlinx.serialization.ExperimentalSerializationApi
import kotlinx.serialization.KSerializer
import kotlinx.serialization.serializer

/**
 * The `cluster { }` block's receiver: configures the watcher and declares the `worker { }` program. It runs in every process of the cluster
 * (watcher and workers alike), so keep it free of side effects; the handlers run only in the watcher, the `worker { }` block only in
 * workers.
 */
@ClusterDsl
public class ClusterSpec
internal constructor(
    /** The program's arguments (without `--standalone`); workers get the same ones. */
    public val args: List<String>
) {
    internal var workerCount: Int = Runtime.getRuntime().availableProcessors()
    internal var mainClass: String? = null
    internal val jvmOptions = mutableListOf<String>()
    internal val environment = linkedMapOf<String, String>()
    internal val restart = RestartSpec()
    internal val timeouts = TimeoutsSpec()
    internal val configBlocks = mutableListOf<WatcherConfig.Builder.() -> Unit>()
    internal var group: GroupConfig? = null
    internal val messageHandlers = mutableListOf<MessageHandler>()
    internal val eventHandlers = mutableListOf<suspend WatcherScope.(ClusterEvent) -> Unit>()
    internal val startedHandlers = mutableListOf<suspend WatcherScope.() -> Unit>()
    internal var workerBlock: (suspend WorkerScope.() -> Unit)? = null
    private var frozen = false

    internal class MessageHandler(
        val type: String,
        val decode: (WorkerMessage) -> Any?,
        val handler: suspend WatcherScope.(ReceivedMessage<Any?>) -> Unit,
    )

    /** Runs [count] workers (default: the number of available processors). */
    public fun workers(count: Int) {
        configuring("workers($count)")
        require(count >= 1) { "workers($count): a cluster needs at least one worker; use workers(1) or more" }
        workerCount = count
    }

    /**
     * The main class workers run: this same program. Needed only when the caller of `cluster(…)` is not the class with `main` (the default
     * is that caller, else the `sun.java.command` main class or jar).
     */
    public fun mainClass(name: String) {
        configuring("mainClass")
        require(name.isNotBlank()) { "mainClass must not be blank" }
        mainClass = name
    }

    /** JVM options for worker JVMs, e.g. `jvmOptions("-Xmx256m")`. */
    public fun jvmOptions(vararg options: String) {
        configuring("jvmOptions")
        jvmOptions += options
    }

    /** An extra environment variable for worker JVMs. */
    public fun environment(name: String, value: String) {
        configuring("environment")
        environment[name] = value
    }

    /** How workers are replaced and respawned. */
    public fun restart(block: RestartSpec.() -> Unit) {
        configuring("restart { }")
        restart.block()
    }

    /** Supervision timeouts. */
    public fun timeouts(block: TimeoutsSpec.() -> Unit) {
        configuring("timeouts { }")
        timeouts.block()
    }

    /**
     * Joins the watchers of [group] on several hosts over the ZooKeeper ensemble [connect] (`host:port,…`): membership, one leader worker
     * for the whole group (`onLeadership { }` in workers), cluster-wide broadcasts and restarts (see `GroupConfig`). Needs the
     * `cluster-zookeeper` module on the classpath.
     *
     * ```kotlin
     * zookeeper("zk1:2181,zk2:2181", group = "shop") { credentialsFile(Path.of("/etc/shop/zk.auth")) }
     * ```
     */
    public fun zookeeper(connect: String, group: String, configure: GroupConfig.Builder.() -> Unit = {}) {
        configuring("zookeeper")
        this.group = GroupConfig(connect, group, configure)
    }

    /** Any other watcher setting (socket mode, frame size, …), applied last. */
    public fun watcherConfig(block: WatcherConfig.Builder.() -> Unit) {
        configuring("watcherConfig { }")
        configBlocks += block
    }

    /** Handles every message of type [T] (matched with `Message.isOf<T>()`) from any worker, in arrival order. */
    public inline fun <reified T> onMessage(noinline handler: suspend WatcherScope.(ReceivedMessage<T>) -> Unit): Unit =
        onMessage(serializer<T>(), handler)

    /** Handles every message of [serializer]'s type from any worker, in arrival order. */
    @OptIn(ExperimentalSerializationApi::class)
    public fun <T> onMessage(serializer: KSerializer<T>, handler: suspend WatcherScope.(ReceivedMessage<T>) -> Unit) {
        configuring("onMessage")
        add(serializer.descriptor.serialName, { it.message.decode(serializer) }, handler)
    }

    /** Handles every message of [codec]'s type from any worker, in arrival order. */
    public fun <T> onMessage(codec: MessageCodec<T>, handler: suspend WatcherScope.(ReceivedMessage<T>) -> Unit) {
        configuring("onMessage")
        add(codec.type, { it.message.decode(codec) }, handler)
    }

    @Suppress("UNCHECKED_CAST")
    private fun <T> add(type: String, decode: (WorkerMessage) -> Any?, handler: suspend WatcherScope.(ReceivedMessage<T>) -> Unit) {
        messageHandlers += MessageHandler(type, decode, handler as suspend WatcherScope.(ReceivedMessage<Any?>) -> Unit)
    }

    /** Handles each worker exit (crash, stop, or replacement) with its reason. */
    public fun onWorkerExit(handler: suspend WatcherScope.(ClusterWorker, ExitReason) -> Unit) {
        configuring("onWorkerExit")
        eventHandlers += { e -> if (e is ClusterEvent.WorkerExited) handler(e.worker, e.reason) }
    }

    /** Handles every lifecycle event, in order. */
    public fun onEvent(handler: suspend WatcherScope.(ClusterEvent) -> Unit) {
        configuring("onEvent")
        eventHandlers += handler
    }

    /** Runs once every worker is READY after start. */
    public fun onStarted(handler: suspend WatcherScope.() -> Unit) {
        configuring("onStarted")
        startedHandlers += handler
    }

    /** The program each worker process runs (and a `--standalone` run runs once, in-process). Exactly one per cluster. */
    public fun worker(block: suspend WorkerScope.() -> Unit) {
        configuring("worker { }")
        check(workerBlock == null) { "worker { } is declared twice; a cluster runs one worker program: merge the two blocks into one" }
        workerBlock = block
    }

    internal fun freeze(): ClusterSpec {
        frozen = true
        checkNotNull(workerBlock) { "cluster { } has no worker { } block; add worker { … } with the code each worker process runs" }
        return this
    }

    private fun configuring(what: String) {
        check(!frozen) {
            "$what configures the cluster and must be called directly in the cluster { } block, not later from a handler or inside worker { }"
        }
    }
}
