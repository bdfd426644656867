package dev.kcluster.cli

import dev.kcluster.ReadyPolicy
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import java.nio.file.Path
import java.time.Duration

/** Everything `cluster [OPTIONS] TARGET [ARGS]...` was asked to do. Null settings keep [WatcherConfig]'s defaults. */
internal data class RunOptions(
    val target: String,
    val args: List<String> = emptyList(),
    val workers: Int = 1,
    val classpath: List<String> = emptyList(),
    val jvmOptions: List<String> = emptyList(),
    val pidFile: Path? = null,
    val logLevel: String = "info",
    val logJson: Boolean = false,
    val logFile: Path? = null,
    val stopTimeout: Duration? = null,
    val readyTimeout: Duration? = null,
    val heartbeatTimeout: Duration? = null,
    val maxRestarts: Int? = null,
    val restartWindow: Duration? = null,
    val watch: List<Path> = emptyList(),
    val socketMode: SocketMode = SocketMode.SHARED,
    val readyPolicy: ReadyPolicy = ReadyPolicy.LISTEN,
    /** ZooKeeper connect string: join [group] (with `--group`). */
    val zookeeper: String? = null,
    val group: String? = null,
    /** `user:password` for ZooKeeper digest auth; else `$KCLUSTER_ZK_AUTH` when set. */
    val zkAuthFile: Path? = null,
    val zkSessionTimeout: Duration? = null,
) {
    /** The watcher configuration. @throws IllegalArgumentException naming the invalid setting. */
    fun toWatcherConfig(): WatcherConfig {
        val b = WatcherConfig.builder(target)
            .args(args)
            .classpath(*classpath.toTypedArray())
            .jvmOptions(jvmOptions)
            .socketMode(socketMode)
            .readyPolicy(readyPolicy)
        stopTimeout?.let(b::stopTimeout)
        readyTimeout?.let(b::readyTimeout)
        heartbeatTimeout?.let(b::heartbeatTimeout)
        if (maxRestarts != null || restartWindow != null) {
            val defaults = WatcherConfig.builder(target).build()
            b.maxRestarts(maxRestarts ?: defaults.maxRestarts, restartWindow ?: defaults.restartWindow)
        }
        return b.build()
    }
}
