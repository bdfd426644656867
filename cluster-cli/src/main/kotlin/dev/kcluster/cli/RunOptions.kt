package dev.kcluster.cli

import dev.kcluster.WatcherConfig
import java.nio.file.Path
import java.time.Duration

/**
 * Everything `cluster run` was asked to do: the validated watcher [config] (which holds the target and its args) and what only the command
 * does itself.
 */
internal data class RunOptions(
    val config: WatcherConfig,
    val workers: Int = 1,
    val pidFile: Path? = null,
    val logLevel: String = "info",
    val logJson: Boolean = false,
    val logFile: Path? = null,
    val watch: List<Path> = emptyList(),
    /** ZooKeeper connect string: join [group] (with `--group`). */
    val zookeeper: String? = null,
    val group: String? = null,
    /** `user:password` for ZooKeeper digest auth; else `$KCLUSTER_ZK_AUTH` when set. */
    val zkAuthFile: Path? = null,
    val zkSessionTimeout: Duration? = null,
    /** The `--config` file, reread by a reload. */
    val configFile: Path? = null,
) {
    /** The worker's main class or jar. */
    val target: String
        get() = config.target

    /** Builds these options again from the command line and the current [configFile] (for a reload); throws [ConfigFileException]. */
    var reread: (() -> RunOptions)? = null
}
