package dev.kcluster

import java.nio.file.Path
import java.time.Duration
import kotlin.time.toJavaDuration

/**
 * Everything a [ClusterWatcher] needs: what to run in each worker and how to supervise it. Build one with [builder] (Java) or
 * [WatcherConfig] { … } (Kotlin). Invalid values fail in [Builder.build] with a message naming the setting.
 */
public class WatcherConfig private constructor(b: Builder) {
    /** The worker's main class, or the path of a jar whose manifest names one. */
    public val target: String = b.target

    /** Arguments for every worker's `main`. */
    public val args: List<String> = b.args.toList()

    /** Classpath entries for workers, before the watcher's own classpath (when [inheritClasspath]). */
    public val classpath: List<String> = b.classpath.toList()

    /** Whether workers also get the watcher's classpath (which holds kcluster itself). */
    public val inheritClasspath: Boolean = b.inheritClasspath

    /** The `java` executable for workers; the watcher's own by default. */
    public val javaCommand: String = b.javaCommand

    /** JVM options for workers (e.g. `-Xmx256m`); an option here replaces the lean default for the same setting. */
    public val jvmOptions: List<String> = b.jvmOptions.toList()

    /**
     * Whether workers get kcluster's lean JVM defaults (Serial GC, a heap bound that shares RAM among the workers, smaller thread stacks);
     * false by default, because the same-run HTTP A/B did not show them at least as fast (see bench/README.md). Each is left out when
     * [jvmOptions] (or `JAVA_TOOL_OPTIONS`/`JDK_JAVA_OPTIONS`) set the same thing.
     */
    public val jvmDefaults: Boolean = b.jvmDefaults

    /** Class-data archives for faster worker starts: [ClassCache.AUTO] (the default), [ClassCache.OFF] or a directory. */
    public val classCache: ClassCache = b.classCache

    /** Extra environment variables for workers. */
    public val environment: Map<String, String> = b.environment.toMap()

    /** The workers' working directory; the watcher's when null. */
    public val workingDirectory: Path? = b.workingDirectory

    /** From launch to the worker's IPC handshake. */
    public val startTimeout: Duration = b.startTimeout

    /** From launch to READY. */
    public val readyTimeout: Duration = b.readyTimeout

    /** From STOP to exit, before SIGTERM (then SIGKILL). */
    public val stopTimeout: Duration = b.stopTimeout

    /** How often the watcher pings each worker. */
    public val heartbeatInterval: Duration = b.heartbeatInterval

    /** Silence after which a worker counts as hung: thread dump, kill, respawn. */
    public val heartbeatTimeout: Duration = b.heartbeatTimeout

    /** Crashes tolerated within [restartWindow]; one more stops the watcher with [ClusterException]. */
    public val maxRestarts: Int = b.maxRestarts

    /** The window for [maxRestarts]. */
    public val restartWindow: Duration = b.restartWindow

    /**
     * The longest delay before a respawn: a slot's first crash is replaced at once, then delays double from 100 ms; a minute of uptime
     * resets them.
     */
    public val maxBackoff: Duration = b.maxBackoff

    /** When a worker counts as READY. */
    public val readyPolicy: ReadyPolicy = b.readyPolicy

    /** Shared listening sockets, SO_REUSEPORT, or the watcher's balancer. */
    public val socketMode: SocketMode = b.socketMode

    /** How the balancer ([SocketMode.BALANCE]) picks the worker for each connection; ignored in other modes. */
    public val balance: BalanceStrategy = b.balance

    /** The largest IPC frame in bytes, either way. */
    public val maxFrameSize: Int = b.maxFrameSize

    /** How many worker messages wait for a consumer of [ClusterWatcher.messages] before new ones are dropped (and counted). */
    public val messageBufferCount: Int = b.messageBufferCount

    /** How many bytes of worker messages wait for a consumer before new ones are dropped (and counted). */
    public val messageBufferBytes: Long = b.messageBufferBytes

    /**
     * How many standby workers to keep: JVMs that have run the program up to the point where it would start serving (its first listen,
     * `Cluster.ready()`), held there. When a worker crashes, a standby is promoted at once (and a new standby is started in the
     * background). A rolling restart replaces the standbys too: they run the old code. 0 (the default) keeps none.
     */
    public val standby: Int = b.standby

    /** Recycle a worker after this many requests ([WorkerLoad.requests]); 0 for no limit. */
    public val maxRequests: Long = b.maxRequests

    /** Each worker's request limit is [maxRequests] plus a random 0..[maxRequestsJitter], so workers are not recycled together. */
    public val maxRequestsJitter: Long = b.maxRequestsJitter

    /** Recycle a worker whose heap in use after GC exceeds this many bytes; 0 for no limit. */
    public val maxMemory: Long = b.maxMemory

    /** Recycle a worker whose resident set exceeds this many bytes (read from `/proc` every heartbeat); 0 for no limit. */
    public val maxRss: Long = b.maxRss

    /**
     * How long a worker whose watcher is gone (even by SIGKILL) lets its shutdown hooks run before it halts; it halts as soon as they
     * finish. Zero halts at once. Default 50 ms.
     */
    public val orphanExitGrace: Duration = b.orphanExitGrace

    /**
     * Where the watcher serves Prometheus metrics for the whole cluster (`--metrics`), or null for none. Needs the `cluster-metrics` module
     * on the watcher's classpath (workers inherit it).
     */
    public val metricsAddress: java.net.InetSocketAddress? = b.metricsAddress

    /** How often each worker ships its measurements to the watcher when [metricsAddress] is set. */
    public val metricsInterval: Duration = b.metricsInterval

    /**
     * The group of watchers on several hosts this watcher joins once its workers are READY, or null for none (see [GroupConfig]). Needs the
     * `cluster-zookeeper` module on the watcher's classpath.
     */
    public val group: GroupConfig? = b.group

    /** Builds a [WatcherConfig]; every setter returns the builder. */
    public class Builder internal constructor(internal val target: String) {
        internal val args = mutableListOf<String>()
        internal val classpath = mutableListOf<String>()
        internal var inheritClasspath = true
        internal var javaCommand: String = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        internal val jvmOptions = mutableListOf<String>()
        internal var jvmDefaults = false
        internal var classCache: ClassCache = ClassCache.AUTO
        internal val environment = linkedMapOf<String, String>()
        internal var workingDirectory: Path? = null
        internal var startTimeout: Duration = Duration.ofSeconds(30)
        internal var readyTimeout: Duration = Duration.ofSeconds(60)
        internal var stopTimeout: Duration = Duration.ofSeconds(10)
        internal var heartbeatInterval: Duration = Duration.ofSeconds(1)
        internal var heartbeatTimeout: Duration = Duration.ofSeconds(15)
        internal var maxRestarts: Int = 5
        internal var restartWindow: Duration = Duration.ofSeconds(60)
        internal var maxBackoff: Duration = Duration.ofSeconds(10)
        internal var readyPolicy: ReadyPolicy = ReadyPolicy.LISTEN
        internal var socketMode: SocketMode = SocketMode.SHARED
        internal var balance: BalanceStrategy = BalanceStrategy.ROUND_ROBIN
        internal var maxFrameSize: Int = 16 * 1024 * 1024
        internal var standby: Int = 0
        internal var maxRequests: Long = 0
        internal var maxRequestsJitter: Long = 0
        internal var maxMemory: Long = 0
        internal var maxRss: Long = 0
        internal var metricsAddress: java.net.InetSocketAddress? = null
        internal var metricsInterval: Duration = Duration.ofSeconds(1)
        internal var messageBufferCount: Int = 10_000
        internal var messageBufferBytes: Long = 64L * 1024 * 1024
        internal var orphanExitGrace: Duration = Duration.ofMillis(50)
        internal var group: GroupConfig? = null

        /** Joins the group [config] (null: none); see [WatcherConfig.group]. */
        public fun group(config: GroupConfig?): Builder = apply { group = config }

        public fun args(vararg values: String): Builder = apply { args += values }

        public fun args(values: List<String>): Builder = apply { args += values }

        public fun classpath(vararg entries: String): Builder = apply { classpath += entries }

        public fun inheritClasspath(value: Boolean): Builder = apply { inheritClasspath = value }

        public fun javaCommand(path: String): Builder = apply { javaCommand = path }

        public fun jvmOptions(vararg options: String): Builder = apply { jvmOptions += options }

        public fun jvmOptions(options: List<String>): Builder = apply { jvmOptions += options }

        public fun jvmDefaults(enabled: Boolean): Builder = apply { jvmDefaults = enabled }

        public fun classCache(cache: ClassCache): Builder = apply { classCache = cache }

        public fun environment(name: String, value: String): Builder = apply { environment[name] = value }

        public fun workingDirectory(dir: Path?): Builder = apply { workingDirectory = dir }

        public fun startTimeout(d: Duration): Builder = apply { startTimeout = d }

        public fun readyTimeout(d: Duration): Builder = apply { readyTimeout = d }

        public fun stopTimeout(d: Duration): Builder = apply { stopTimeout = d }

        public fun heartbeatInterval(d: Duration): Builder = apply { heartbeatInterval = d }

        public fun heartbeatTimeout(d: Duration): Builder = apply { heartbeatTimeout = d }

        public fun maxRestarts(n: Int, window: Duration): Builder = apply {
            maxRestarts = n
            restartWindow = window
        }

        public fun maxBackoff(d: Duration): Builder = apply { maxBackoff = d }

        public fun readyPolicy(p: ReadyPolicy): Builder = apply { readyPolicy = p }

        public fun socketMode(m: SocketMode): Builder = apply { socketMode = m }

        public fun balance(strategy: BalanceStrategy): Builder = apply { balance = strategy }

        public fun maxFrameSize(bytes: Int): Builder = apply { maxFrameSize = bytes }

        public fun standby(count: Int): Builder = apply { standby = count }

        public fun maxRequests(count: Long, jitter: Long = 0): Builder = apply {
            maxRequests = count
            maxRequestsJitter = jitter
        }

        public fun maxMemory(bytes: Long): Builder = apply { maxMemory = bytes }

        public fun maxRss(bytes: Long): Builder = apply { maxRss = bytes }

        /** Serves cluster metrics at [address] (null: none), workers reporting every [interval]. */
        @JvmOverloads
        public fun metrics(address: java.net.InetSocketAddress?, interval: Duration = Duration.ofSeconds(1)): Builder = apply {
            metricsAddress = address
            metricsInterval = interval
        }

        public fun metrics(address: java.net.InetSocketAddress?, interval: kotlin.time.Duration): Builder =
            metrics(address, interval.toJavaDuration())

        public fun messageBuffer(count: Int, bytes: Long): Builder = apply {
            messageBufferCount = count
            messageBufferBytes = bytes
        }

        public fun orphanExitGrace(d: Duration): Builder = apply { orphanExitGrace = d }

        public fun startTimeout(d: kotlin.time.Duration): Builder = startTimeout(d.toJavaDuration())

        public fun readyTimeout(d: kotlin.time.Duration): Builder = readyTimeout(d.toJavaDuration())

        public fun stopTimeout(d: kotlin.time.Duration): Builder = stopTimeout(d.toJavaDuration())

        public fun heartbeatInterval(d: kotlin.time.Duration): Builder = heartbeatInterval(d.toJavaDuration())

        public fun heartbeatTimeout(d: kotlin.time.Duration): Builder = heartbeatTimeout(d.toJavaDuration())

        public fun maxRestarts(n: Int, window: kotlin.time.Duration): Builder = maxRestarts(n, window.toJavaDuration())

        public fun maxBackoff(d: kotlin.time.Duration): Builder = maxBackoff(d.toJavaDuration())

        public fun orphanExitGrace(d: kotlin.time.Duration): Builder = orphanExitGrace(d.toJavaDuration())

        /** @throws IllegalArgumentException naming the first invalid setting. */
        public fun build(): WatcherConfig {
            require(target.isNotBlank()) { "target (a main class or a jar) must not be blank" }
            fun positive(name: String, d: Duration) = require(!d.isNegative && !d.isZero) { "$name must be positive, was $d" }
            positive("startTimeout", startTimeout)
            positive("readyTimeout", readyTimeout)
            positive("stopTimeout", stopTimeout)
            positive("heartbeatInterval", heartbeatInterval)
            positive("heartbeatTimeout", heartbeatTimeout)
            positive("restartWindow", restartWindow)
            require(!maxBackoff.isNegative) { "maxBackoff must not be negative, was $maxBackoff" }
            require(!orphanExitGrace.isNegative) { "orphanExitGrace must not be negative, was $orphanExitGrace" }
            require(heartbeatTimeout > heartbeatInterval) {
                "heartbeatTimeout ($heartbeatTimeout) must be longer than heartbeatInterval ($heartbeatInterval)"
            }
            require(maxRestarts >= 0) { "maxRestarts must be >= 0, was $maxRestarts" }
            require(maxFrameSize >= 64 * 1024) { "maxFrameSize must be at least 64 KiB, was $maxFrameSize" }
            require(standby >= 0) { "standby must be >= 0, was $standby" }
            require(maxRequests >= 0 && maxRequestsJitter >= 0) {
                "maxRequests and its jitter must be >= 0, were $maxRequests and $maxRequestsJitter"
            }
            require(maxMemory >= 0) { "maxMemory must be >= 0, was $maxMemory" }
            positive("metricsInterval", metricsInterval)
            require(maxRss >= 0) { "maxRss must be >= 0, was $maxRss" }
            require(messageBufferCount >= 1) { "messageBuffer count must be >= 1, was $messageBufferCount" }
            require(messageBufferBytes >= maxFrameSize) {
                "messageBuffer bytes ($messageBufferBytes) must hold at least one frame of maxFrameSize ($maxFrameSize)"
            }
            return WatcherConfig(this)
        }
    }

    public companion object {
        /** A builder for workers running [target]: a main class name or a jar path. */
        @JvmStatic public fun builder(target: String): Builder = Builder(target)
    }
}

/** Builds a [WatcherConfig] for [target] (a main class or a jar path). */
public fun WatcherConfig(target: String, configure: WatcherConfig.Builder.() -> Unit = {}): WatcherConfig =
    WatcherConfig.builder(target).apply(configure).build()
