package dev.kcluster.internal.log

import org.slf4j.Logger
import org.slf4j.LoggerFactory
import org.slf4j.event.Level

/**
 * This process's place in the cluster's merged log: the source name its own lines carry (`main`, `watcher`, `worker N`) and the level
 * workers are started with. cluster-core writes no log lines itself; the SLF4J backend does (see `cluster-logging`). Plumbing, not an
 * application API.
 */
@dev.kcluster.InternalKclusterApi
public object LogOutput {
    /** `main` until a watcher starts in this JVM (`watcher`) or it is a worker (`worker N`). */
    @Volatile
    public var source: String = "main"
        internal set

    /** Reopens the log file of the active backend (SIGUSR1); set by cluster-logging, null with other backends. */
    @Volatile public var reopener: (() -> Unit)? = null

    /** The lowest level enabled on the SLF4J root logger, whatever the backend; [Int.MAX_VALUE] for off. */
    internal val threshold: Int
        get() =
            try {
                val root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)
                when {
                    root.isTraceEnabled -> Level.TRACE.toInt()
                    root.isDebugEnabled -> Level.DEBUG.toInt()
                    root.isInfoEnabled -> Level.INFO.toInt()
                    root.isWarnEnabled -> Level.WARN.toInt()
                    root.isErrorEnabled -> Level.ERROR.toInt()
                    else -> Int.MAX_VALUE
                }
            } catch (_: Throwable) {
                Level.INFO.toInt()
            }

    internal fun levelName(level: Int): String = if (level == Int.MAX_VALUE) "OFF" else level(level).name

    /** The SLF4J level for an int from the wire (the nearest one at or below it). */
    internal fun level(level: Int): Level =
        when {
            level >= Level.ERROR.toInt() -> Level.ERROR
            level >= Level.WARN.toInt() -> Level.WARN
            level >= Level.INFO.toInt() -> Level.INFO
            level >= Level.DEBUG.toInt() -> Level.DEBUG
            else -> Level.TRACE
        }
}
