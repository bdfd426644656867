package dev.kcluster.logging

import dev.kcluster.logging.internal.MergedLog

/**
 * Settings of kcluster's own log output, written by [KclusterServiceProvider] when it is the active SLF4J backend: one merged stream of
 * watcher and worker records. Workers launched afterwards inherit the level. With another backend these settings have no effect; configure
 * that backend instead.
 */
public object ClusterLog {
    /** Sets the lowest level written: trace, debug, info, warn, error or off. @throws IllegalArgumentException for other names. */
    @JvmStatic
    public fun setLevel(level: String) {
        MergedLog.threshold = MergedLog.parseLevel(level)
    }

    /** JSON lines when true, text lines otherwise. */
    @JvmStatic
    public fun setJson(json: Boolean) {
        MergedLog.json = json
    }

    /** Appends to [path] instead of stderr (null: back to stderr). Colour is used only on a terminal. */
    @JvmStatic
    public fun setFile(path: String?) {
        MergedLog.useFile(path)
    }

    /** Reopens the log file, e.g. on SIGUSR1 after logrotate moved it. */
    @JvmStatic
    public fun reopen() {
        MergedLog.reopen()
    }

    /** Names this process in log lines (`watcher` for a watcher by default). */
    @JvmStatic
    public fun setSource(name: String) {
        MergedLog.sourceOverride = name
    }
}
