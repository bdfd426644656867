package dev.kcluster.cli

/** What a reload of the `--config` file changed, by config-file key ([ConfigFile.KEYS]). */
internal object ReloadChanges {
    /** The settings a rolling restart applies: the keys among `args`, `jvm-options` and `env` that differ. */
    fun workerLevel(before: RunOptions, after: RunOptions): List<String> =
        listOfNotNull(
            "args".takeIf { before.config.args != after.config.args },
            "jvm-options".takeIf { before.config.jvmOptions != after.config.jvmOptions },
            "env".takeIf { before.config.environment != after.config.environment },
        )

    /** The other changed settings: they take effect only when the cluster is started again. */
    fun needFullRestart(before: RunOptions, after: RunOptions): List<String> {
        val a = before.config
        val b = after.config
        return listOf(
                "target" to (a.target to b.target),
                "workers" to (before.workers to after.workers),
                "classpath" to (a.classpath to b.classpath),
                "java" to (a.javaCommand to b.javaCommand),
                "class-cache" to (a.classCache.toString() to b.classCache.toString()),
                "jvm-defaults" to (a.jvmDefaults to b.jvmDefaults),
                "chdir" to (a.workingDirectory to b.workingDirectory),
                "pid-file" to (before.pidFile to after.pidFile),
                "log-level" to (before.logLevel to after.logLevel),
                "log-format" to (before.logJson to after.logJson),
                "log-file" to (before.logFile to after.logFile),
                "start-timeout" to (a.startTimeout to b.startTimeout),
                "ready-timeout" to (a.readyTimeout to b.readyTimeout),
                "stop-timeout" to (a.stopTimeout to b.stopTimeout),
                "heartbeat-interval" to (a.heartbeatInterval to b.heartbeatInterval),
                "heartbeat-timeout" to (a.heartbeatTimeout to b.heartbeatTimeout),
                "max-restarts" to (a.maxRestarts to b.maxRestarts),
                "restart-window" to (a.restartWindow to b.restartWindow),
                "max-backoff" to (a.maxBackoff to b.maxBackoff),
                "max-frame-size" to (a.maxFrameSize to b.maxFrameSize),
                "watch" to (before.watch to after.watch),
                "socket-mode" to (a.socketMode to b.socketMode),
                "ready-when" to (a.readyPolicy to b.readyPolicy),
                "standby" to (a.standby to b.standby),
                "max-requests" to (a.maxRequests to b.maxRequests),
                "max-requests-jitter" to (a.maxRequestsJitter to b.maxRequestsJitter),
                "max-memory" to (a.maxMemory to b.maxMemory),
                "max-rss" to (a.maxRss to b.maxRss),
                "message-buffer" to (a.messageBufferCount to b.messageBufferCount),
                "balance" to (a.balance to b.balance),
                "metrics" to (a.metricsAddress to b.metricsAddress),
                "metrics-interval" to (a.metricsInterval to b.metricsInterval),
                "zookeeper" to (before.zookeeper to after.zookeeper),
                "group" to (before.group to after.group),
                "zk-auth-file" to (before.zkAuthFile to after.zkAuthFile),
                "zk-session-timeout" to (before.zkSessionTimeout to after.zkSessionTimeout),
            )
            .filter { (_, v) -> v.first != v.second }
            .map { it.first }
    }
}
