package dev.kcluster.cli

import com.github.ajalt.clikt.core.UsageError
import dev.kcluster.ClassCache
import dev.kcluster.ReadyPolicy
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import java.nio.file.Path
import java.time.Duration

/**
 * `cluster run`'s settings as given in one place, the command line or the config file: null where that place does not set them. [over]
 * merges two places; [toRunOptions] applies the defaults and validates the whole.
 */
internal data class RunSettings(
    val workers: Int? = null,
    val target: String? = null,
    val args: List<String>? = null,
    val classpath: List<String>? = null,
    val jvmOptions: List<String>? = null,
    val classCache: ClassCache? = null,
    val java: String? = null,
    val jvmDefaults: Boolean? = null,
    val pidFile: Path? = null,
    val logLevel: String? = null,
    val logJson: Boolean? = null,
    val logFile: Path? = null,
    val environment: Map<String, String>? = null,
    val chdir: Path? = null,
    val startTimeout: Duration? = null,
    val readyTimeout: Duration? = null,
    val stopTimeout: Duration? = null,
    val heartbeatInterval: Duration? = null,
    val heartbeatTimeout: Duration? = null,
    val maxRestarts: Int? = null,
    val restartWindow: Duration? = null,
    val maxBackoff: Duration? = null,
    val maxFrameSize: Int? = null,
    val watch: List<Path>? = null,
    val socketMode: SocketMode? = null,
    val readyPolicy: ReadyPolicy? = null,
    val standby: Int? = null,
    val maxRequests: Long? = null,
    val maxRequestsJitter: Long? = null,
    val maxMemory: Long? = null,
    val maxRss: Long? = null,
    val messageBuffer: Int? = null,
    val metrics: java.net.InetSocketAddress? = null,
    val metricsInterval: Duration? = null,
    val balance: dev.kcluster.BalanceStrategy? = null,
    val zookeeper: String? = null,
    val group: String? = null,
    val zkAuthFile: Path? = null,
    val zkSessionTimeout: Duration? = null,
) {
    /**
     * These settings where set, [base]'s elsewhere. A list set here replaces [base]'s whole; [environment] is merged by name. A TARGET set
     * here brings its own [args] (none when it has none).
     */
    fun over(base: RunSettings): RunSettings =
        RunSettings(
            workers ?: base.workers,
            target ?: base.target,
            if (target != null) args.orEmpty() else args ?: base.args,
            classpath ?: base.classpath,
            jvmOptions ?: base.jvmOptions,
            classCache ?: base.classCache,
            java ?: base.java,
            jvmDefaults ?: base.jvmDefaults,
            pidFile ?: base.pidFile,
            logLevel ?: base.logLevel,
            logJson ?: base.logJson,
            logFile ?: base.logFile,
            if (environment == null && base.environment == null) null else base.environment.orEmpty() + environment.orEmpty(),
            chdir ?: base.chdir,
            startTimeout ?: base.startTimeout,
            readyTimeout ?: base.readyTimeout,
            stopTimeout ?: base.stopTimeout,
            heartbeatInterval ?: base.heartbeatInterval,
            heartbeatTimeout ?: base.heartbeatTimeout,
            maxRestarts ?: base.maxRestarts,
            restartWindow ?: base.restartWindow,
            maxBackoff ?: base.maxBackoff,
            maxFrameSize ?: base.maxFrameSize,
            watch ?: base.watch,
            socketMode ?: base.socketMode,
            readyPolicy ?: base.readyPolicy,
            standby ?: base.standby,
            maxRequests ?: base.maxRequests,
            maxRequestsJitter ?: base.maxRequestsJitter,
            maxMemory ?: base.maxMemory,
            maxRss ?: base.maxRss,
            messageBuffer ?: base.messageBuffer,
            metrics ?: base.metrics,
            metricsInterval ?: base.metricsInterval,
            balance ?: base.balance,
            zookeeper ?: base.zookeeper,
            group ?: base.group,
            zkAuthFile ?: base.zkAuthFile,
            zkSessionTimeout ?: base.zkSessionTimeout,
        )

    /** The defaults where nothing is set; an invalid combination is a [UsageError] naming the flag. */
    fun toRunOptions(configFile: Path? = null): RunOptions {
        val target = target ?: throw UsageError("missing argument <target> (or `target` in --config)")
        if ((zookeeper == null) != (group == null)) throw UsageError("--zookeeper and --group go together")
        if (zookeeper == null && (zkAuthFile != null || zkSessionTimeout != null)) {
            throw UsageError("--zk-auth-file and --zk-session-timeout need --zookeeper")
        }
        val b =
            WatcherConfig.builder(target)
                .args(args.orEmpty())
                .classpath(*classpath.orEmpty().toTypedArray())
                .jvmOptions(jvmOptions.orEmpty())
                .socketMode(socketMode ?: SocketMode.SHARED)
                .readyPolicy(readyPolicy ?: ReadyPolicy.LISTEN)
                .workingDirectory(chdir)
                .classCache(classCache ?: ClassCache.AUTO)
                .jvmDefaults(jvmDefaults ?: false)
        environment?.forEach { (k, v) -> b.environment(k, v) }
        java?.let(b::javaCommand)
        startTimeout?.let(b::startTimeout)
        readyTimeout?.let(b::readyTimeout)
        stopTimeout?.let(b::stopTimeout)
        heartbeatInterval?.let(b::heartbeatInterval)
        heartbeatTimeout?.let(b::heartbeatTimeout)
        maxBackoff?.let(b::maxBackoff)
        maxFrameSize?.let(b::maxFrameSize)
        standby?.let(b::standby)
        balance?.let(b::balance)
        metrics?.let { b.metrics(it, metricsInterval ?: Duration.ofSeconds(1)) }
        if (zookeeper != null && group != null) {
            val g = dev.kcluster.GroupConfig.builder(zookeeper, group)
            zkSessionTimeout?.let(g::sessionTimeout)
            // Credentials: --zk-auth-file, else $KCLUSTER_ZK_AUTH when it is set (read when the watcher starts).
            when {
                zkAuthFile != null -> g.credentialsFile(zkAuthFile)
                System.getenv(dev.kcluster.GroupConfig.CREDENTIALS_VARIABLE) != null -> g.credentialsFromEnvironment()
            }
            b.group(g.build())
        }
        maxMemory?.let(b::maxMemory)
        maxRss?.let(b::maxRss)
        val defaults = WatcherConfig.builder("defaults").build()
        if (maxRestarts != null || restartWindow != null) {
            b.maxRestarts(maxRestarts ?: defaults.maxRestarts, restartWindow ?: defaults.restartWindow)
        }
        if (maxRequests != null || maxRequestsJitter != null) b.maxRequests(maxRequests ?: 0, maxRequestsJitter ?: 0)
        if (messageBuffer != null) {
            b.messageBuffer(messageBuffer, maxOf(defaults.messageBufferBytes, (maxFrameSize ?: defaults.maxFrameSize).toLong()))
        }
        val config =
            try {
                b.build()
            } catch (e: IllegalArgumentException) {
                throw UsageError(optionNames(e.message ?: e.toString()))
            }
        return RunOptions(
            config = config,
            workers = workers ?: Runtime.getRuntime().availableProcessors(),
            pidFile = pidFile,
            logLevel = (logLevel ?: "info").lowercase(),
            logJson = logJson ?: false,
            logFile = logFile,
            watch = watch.orEmpty(),
            configFile = configFile,
            zookeeper = zookeeper,
            group = group,
            zkAuthFile = zkAuthFile,
            zkSessionTimeout = zkSessionTimeout,
        )
    }

    companion object {
        /** Says `--stop-timeout` where [WatcherConfig] says `stopTimeout`. */
        fun optionNames(message: String): String =
            listOf(
                    "heartbeatTimeout" to "--heartbeat-timeout",
                    "heartbeatInterval" to "--heartbeat-interval",
                    "startTimeout" to "--start-timeout",
                    "stopTimeout" to "--stop-timeout",
                    "readyTimeout" to "--ready-timeout",
                    "restartWindow" to "--restart-window",
                    "maxRestarts" to "--max-restarts",
                    "maxBackoff" to "--max-backoff",
                    "maxFrameSize" to "--max-frame-size",
                    "target (a main class or a jar)" to "TARGET",
                )
                .fold(message) { m, (from, to) -> m.replace(from, to) }
                .replace(Regex("PT[0-9.HMS]+")) { m ->
                    runCatching { Durations.format(java.time.Duration.parse(m.value)) }.getOrDefault(m.value)
                }
    }
}
