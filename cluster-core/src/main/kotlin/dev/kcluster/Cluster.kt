package dev.kcluster

import dev.kcluster.internal.standalone.StandaloneRuntime
import dev.kcluster.internal.worker.LoadCounters
import dev.kcluster.internal.worker.WorkerRuntime
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.runBlocking

/**
 * What a program calls to take part in a cluster. The same program runs unchanged standalone: then [isWorker] is false,
 * [serverSocketFactory] binds locally, and [awaitTermination] waits for SIGTERM, SIGINT or SIGHUP.
 *
 * ```java
 * ServerSocketChannel server = Cluster.serverSocketFactory().listen("127.0.0.1:8080");
 * Cluster.ready();
 * Cluster.awaitTerminationBlocking();
 * ```
 */
public object Cluster {
    private val runtime: WorkerRuntime?
        get() = WorkerRuntime.current

    /** True in a worker launched by a watcher. */
    @JvmStatic
    public val isWorker: Boolean
        get() = runtime != null

    /** This worker's id (1, 2, …; never reused within a watcher), or 0 when standalone. */
    @JvmStatic
    @get:JvmName("workerId")
    public val workerId: Int
        get() = runtime?.id ?: StandaloneRuntime.WORKER_ID

    /**
     * True in a standby worker (`--standby`, [WatcherConfig.standby]) until the watcher promotes it. A standby's first listen (or [ready])
     * holds until then; what the program does before it, it does while no client can reach it, so that is the place to warm caches or
     * connection pools. `ClusterNetty` warms its request path there (`ServeOptions.standbyWarmup`). False standalone.
     */
    @JvmStatic
    public val isStandby: Boolean
        get() = runtime?.awaitingPromotion ?: false

    /**
     * How many workers the watcher was running or starting when this worker was launched (1 standalone). A hint for sizing per-process
     * resources, e.g. event-loop threads = cores / workerCount.
     */
    @JvmStatic
    @get:JvmName("workerCount")
    public val workerCount: Int
        get() = runtime?.clusterSize ?: 1

    /**
     * The message channel to the watcher. Standalone it exists only under a front end that plays the watcher's part in-process (the DSL's
     * `--standalone`).
     *
     * @throws IllegalStateException when standalone otherwise.
     */
    @JvmStatic
    @get:JvmName("channel")
    public val channel: WorkerChannel
        get() = runtime ?: if (StandaloneRuntime.loopbackEnabled) StandaloneRuntime.channel else worker("Cluster.channel")

    /**
     * This worker's share of the group's leadership: at most one worker of a group of coordinated watchers (`cluster-zookeeper`) is leader
     * at a time, and each grant carries a growing epoch. It turns false when the watcher revokes it or the connection to the watcher is
     * lost. Without coordination, and standalone, it stays [Leadership.NONE]. Java: `JavaCluster.onLeadership(listener)`.
     */
    @JvmStatic
    @get:JvmName("leadership")
    public val leadership: StateFlow<Leadership>
        get() = runtime?.leadership ?: noLeadership

    private val noLeadership = MutableStateFlow(Leadership.NONE)

    /**
     * Client connections the watcher hands to this worker (`ClusterWorker.sendSocket`).
     *
     * @throws IllegalStateException when standalone.
     */
    @JvmStatic
    @get:JvmName("clientSockets")
    public val clientSockets: ClientSocketReceivePipe
        get() = worker("Cluster.clientSockets").clientSockets

    /**
     * Listening sockets from the watcher in a worker (shared, or SO_REUSEPORT when the cluster runs in reuse-port mode), or bound locally
     * when standalone (where the first call also installs the SIGTERM/SIGINT/SIGHUP handlers of [awaitTermination]).
     */
    @JvmStatic
    public fun serverSocketFactory(): ServerSocketFactory {
        val rt = runtime ?: return StandaloneRuntime.serverSockets.also { standalone() }
        if (!rt.reusePort) return rt.serverSockets
        return object : ServerSocketFactory {
            override fun listen(address: String, options: ListenOptions) = rt.serverSockets.listen(address, options.withReusePort(true))
        }
    }

    /**
     * Tells the watcher this worker can take traffic (once; later calls do nothing). Standalone it installs the signal handlers
     * [awaitTermination] waits for, so a signal is never missed.
     */
    @JvmStatic
    public fun ready() {
        val rt = runtime
        if (rt != null) rt.ready() else standalone()
    }

    /**
     * Suspends until this program should stop: the watcher's STOP, the loss of the watcher, or [stop]; standalone, SIGTERM, SIGINT or
     * SIGHUP (a second signal exits at once).
     */
    public suspend fun awaitTermination() {
        val rt = runtime
        if (rt != null) rt.termination.await() else standalone().await()
    }

    /** [awaitTermination] for Java and other blocking callers. */
    @JvmStatic @Throws(InterruptedException::class) public fun awaitTerminationBlocking(): Unit = runBlocking { awaitTermination() }

    /**
     * Stops this worker gracefully: the watcher is told not to replace it, and [awaitTermination] returns. Standalone it ends
     * [awaitTermination] too.
     */
    @JvmStatic
    public fun stop() {
        val rt = runtime
        if (rt != null) rt.stopSelf() else standalone().complete(Unit)
    }

    /** Counts one served request (for `--max-requests` recycling, `status` and metrics); cluster-netty counts HTTP requests itself. */
    @JvmStatic
    public fun countRequest() {
        LoadCounters.requests.incrementAndGet()
    }

    /** Counts a client connection opened (for the least-connections balancer, `status` and metrics); automatic in cluster-netty. */
    @JvmStatic
    public fun connectionOpened() {
        LoadCounters.connections.incrementAndGet()
    }

    /** Counts a client connection closed; pairs with [connectionOpened]. */
    @JvmStatic
    public fun connectionClosed() {
        LoadCounters.connections.decrementAndGet()
    }

    private fun worker(what: String): WorkerRuntime =
        runtime
            ?: throw IllegalStateException(
                "$what is only available in a worker started by a cluster watcher; check Cluster.isWorker first " +
                    "(standalone, use Cluster.serverSocketFactory() and Cluster.awaitTermination(), which work everywhere)"
            )

    private fun standalone(): CompletableDeferred<Unit> = StandaloneRuntime.termination()
}
