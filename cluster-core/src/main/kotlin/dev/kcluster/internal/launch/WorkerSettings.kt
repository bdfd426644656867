package dev.kcluster.internal.launch

import dev.kcluster.ClusterWatcher
import dev.kcluster.InternalKclusterApi
import dev.kcluster.WatcherConfig
import java.util.Collections
import java.util.WeakHashMap

/**
 * The worker-level settings a reload may change without restarting the watcher: [args], [jvmOptions] and [environment]. [Launcher] reads
 * them at every launch: a config's own values, until [ClusterWatcher.updateWorkerSettings] replaces them for the workers launched from then
 * on.
 */
internal class WorkerSettings(val args: List<String>, val jvmOptions: List<String>, val environment: Map<String, String>) {
    companion object {
        /** Replacements, by config (identity: [WatcherConfig] has no equals); weak, so a dropped config takes its entry along. */
        private val replaced: MutableMap<WatcherConfig, WorkerSettings> = Collections.synchronizedMap(WeakHashMap())

        fun of(config: WatcherConfig): WorkerSettings =
            replaced[config] ?: WorkerSettings(config.args, config.jvmOptions, config.environment)

        fun replace(config: WatcherConfig, settings: WorkerSettings) {
            replaced[config] = settings
        }
    }
}

/**
 * Workers launched from now on (respawns, rolling-restart replacements, standbys) get [args], [jvmOptions] and [environment] instead of
 * [ClusterWatcher.config]'s (which does not change); running workers keep theirs. For the `cluster` command's reload of its config file. It
 * applies to every watcher built from the same config.
 */
@InternalKclusterApi
public fun ClusterWatcher.updateWorkerSettings(args: List<String>, jvmOptions: List<String>, environment: Map<String, String>) {
    WorkerSettings.replace(config, WorkerSettings(args.toList(), jvmOptions.toList(), environment.toMap()))
}
