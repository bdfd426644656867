package dev.kcluster.netty

import dev.kcluster.ListenOptions
import java.time.Duration

/**
 * How [ClusterNetty] and [ClusterKtor] listen, and how they drain on stop or restart. Build with [builder]; [DEFAULT] suits most HTTP
 * servers.
 *
 * ```java
 * ServeOptions options = ServeOptions.builder().idleGrace(Duration.ofMillis(500)).build();
 * ```
 */
public class ServeOptions private constructor(b: Builder) {
    /** How the listening socket is bound (backlog, SO_REUSEADDR, TCP_NODELAY). */
    public val listenOptions: ListenOptions = b.listenOptions

    /** Event-loop threads that accept connections. */
    public val bossThreads: Int = b.bossThreads

    /**
     * Event-loop threads that serve connections. 0 (the default) means the cores shared out among the cluster's workers (cores /
     * [dev.kcluster.Cluster.workerCount], at least 1), so N workers do not oversubscribe the machine; standalone that is every core.
     */
    public val workerThreads: Int = b.workerThreads

    internal fun effectiveWorkerThreads(): Int =
        if (workerThreads > 0) workerThreads
        else (Runtime.getRuntime().availableProcessors() / dev.kcluster.Cluster.workerCount).coerceAtLeast(1)

    /**
     * How many connections one wake-up of the accept loop takes (Netty's default is 16). On a socket shared by several workers, 1 (the
     * default) spreads a burst of new connections across the workers instead of letting the first one to wake take them all.
     */
    public val acceptBatch: Int = b.acceptBatch

    /**
     * While draining, a keep-alive connection with no request in progress is closed once it has been quiet this long (counted from the
     * later of its last byte and the start of the drain). A request arriving within it is answered with `Connection: close`, so busy
     * clients never see a bare close.
     */
    public val idleGrace: Duration = b.idleGrace

    /**
     * The longest a drain waits for connections to finish before it closes the rest. Keep it (plus a few seconds) below the watcher's stop
     * timeout (10 s by default), after which the worker gets SIGTERM.
     */
    public val drainTimeout: Duration = b.drainTimeout

    /**
     * After the last response of a closing connection, how long its input is still read (and discarded) after our FIN, so that the kernel
     * never answers late client bytes with a reset.
     */
    public val lingerTimeout: Duration = b.lingerTimeout

    /**
     * The path a standby worker (`--standby`) asks of itself before it is held, so that its first request after promotion does not load and
     * run the request path cold: one HTTP/1.1 `GET` (`User-Agent: kcluster-warmup`, `Connection: close`) over a private loopback socket
     * that this server's pipeline serves, counted in neither the worker's load nor its metrics. It is sent only when the pipeline has an
     * HTTP/1 codec and no TLS (otherwise the warm-up only connects), so the handler must answer a safe `GET` of this path harmlessly. Null
     * turns it off. Default "/". Workers that are not standbys never warm up, and [ClusterKtor] does not.
     */
    public val standbyWarmup: String? = b.standbyWarmup

    /** Builds [ServeOptions]; every setter returns the builder. */
    public class Builder internal constructor() {
        internal var listenOptions: ListenOptions = ListenOptions.DEFAULT
        internal var bossThreads: Int = 1
        internal var workerThreads: Int = 0
        internal var acceptBatch: Int = 1
        internal var idleGrace: Duration = Duration.ofSeconds(1)
        internal var drainTimeout: Duration = Duration.ofSeconds(6)
        internal var lingerTimeout: Duration = Duration.ofSeconds(2)
        internal var standbyWarmup: String? = "/"

        /** See [ServeOptions.listenOptions]. */
        public fun listenOptions(value: ListenOptions): Builder = apply { listenOptions = value }

        /** See [ServeOptions.bossThreads]. */
        public fun bossThreads(value: Int): Builder = apply { bossThreads = value }

        /** See [ServeOptions.workerThreads]. */
        public fun workerThreads(value: Int): Builder = apply { workerThreads = value }

        /** See [ServeOptions.acceptBatch]. */
        public fun acceptBatch(value: Int): Builder = apply { acceptBatch = value }

        /** See [ServeOptions.idleGrace]. */
        public fun idleGrace(value: Duration): Builder = apply { idleGrace = value }

        /** See [ServeOptions.drainTimeout]. */
        public fun drainTimeout(value: Duration): Builder = apply { drainTimeout = value }

        /** See [ServeOptions.lingerTimeout]. */
        public fun lingerTimeout(value: Duration): Builder = apply { lingerTimeout = value }

        /** See [ServeOptions.standbyWarmup]; null turns it off. */
        public fun standbyWarmup(path: String?): Builder = apply { standbyWarmup = path }

        /** @throws IllegalArgumentException naming the first invalid setting. */
        public fun build(): ServeOptions {
            require(bossThreads >= 1) { "bossThreads must be >= 1, was $bossThreads" }
            require(acceptBatch >= 1) { "acceptBatch must be >= 1, was $acceptBatch" }
            require(workerThreads >= 0) { "workerThreads must be >= 0 (0 = cores / workers), was $workerThreads" }
            for ((name, d) in listOf("idleGrace" to idleGrace, "drainTimeout" to drainTimeout, "lingerTimeout" to lingerTimeout)) {
                require(!d.isNegative) { "$name must not be negative, was $d" }
            }
            standbyWarmup?.let { path ->
                require(path.startsWith("/") && path.all { it in '!'..'~' }) {
                    "standbyWarmup must be a path starting with / of visible ASCII characters (no spaces), was \"$path\""
                }
            }
            return ServeOptions(this)
        }
    }

    public companion object {
        /** Backlog 1024, one boss thread, cores / workers event loops, 1 s idle grace, 6 s drain, 2 s linger, standby warm-up `GET /`. */
        @JvmField public val DEFAULT: ServeOptions = Builder().build()

        /** A builder starting from [DEFAULT]. */
        @JvmStatic public fun builder(): Builder = Builder()
    }
}
