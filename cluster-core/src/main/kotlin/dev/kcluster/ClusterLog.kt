package dev.kcluster

import dev.kcluster.internal.log.LogOutput

/**
 * Settings of kcluster's own log output (used when kcluster's SLF4J provider is the active one):
 * one merged stream of watcher and worker records. Workers launched afterwards inherit the level.
 * The `cluster` command sets these from its options.
 */
@InternalKclusterApi
public object ClusterLog {
    /** Sets the lowest level written: trace, debug, info, warn, error or off. @throws IllegalArgumentException for other names. */
    @JvmStatic
    public fun setLevel(level: String) {
        LogOutput.threshold = LogOutput.parseLevel(level)
    }

    /** JSON lines when true, text lines otherwise. */
    @JvmStatic
    public fun setJson(json: Boolean) {
        LogOutput.json = json
    }

    /** Appends to [path] instead of stderr (null: back to stderr). Colour is used only on a terminal. */
    @JvmStatic
    public fun setFile(path: String?) {
        LogOutput.useFile(path)
    }

    /** Reopens the log file, e.g. on SIGUSR2 after logrotate moved it. */
    @JvmStatic
    public fun reopen() {
        LogOutput.reopen()
    }

    /** Names this process in log lines (`watcher` for a watcher by default). */
    @JvmStatic
    public fun setSource(name: String) {
        LogOutput.source = name
    }
}
