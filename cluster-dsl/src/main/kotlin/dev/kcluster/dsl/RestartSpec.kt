package dev.kcluster.dsl

import kotlin.time.Duration
import kotlin.time.toJavaDuration

/** How workers are replaced: `restart { rolling(); readyTimeout(10.seconds); maxCrashes(5, 1.minutes) }`. */
@ClusterDsl
public class RestartSpec internal constructor() {
    internal var readyTimeout: java.time.Duration? = null
    internal var stopTimeout: java.time.Duration? = null
    internal var maxCrashes: Pair<Int, java.time.Duration>? = null
    internal var maxBackoff: java.time.Duration? = null

    /**
     * Restarts (SIGHUP to the watcher, or `restart()` in a handler) replace workers one at a time, each only after its replacement is
     * READY, rolling back when one fails. The only strategy, and the default.
     */
    public fun rolling() {}

    /** How long a new worker may take to become READY, at start and in restarts (default 60 s). */
    public fun readyTimeout(timeout: Duration) {
        require(timeout.isPositive()) { "readyTimeout must be positive, was $timeout" }
        readyTimeout = timeout.toJavaDuration()
    }

    /** How long a stopping worker may drain before SIGTERM, then SIGKILL (default 10 s). */
    public fun stopTimeout(timeout: Duration) {
        require(timeout.isPositive()) { "stopTimeout must be positive, was $timeout" }
        stopTimeout = timeout.toJavaDuration()
    }

    /** Crashed workers are respawned, but one crash more than [count] within [window] stops the cluster (default 5 in 60 s). */
    public fun maxCrashes(count: Int, window: Duration) {
        require(count >= 0) { "maxCrashes needs count >= 0, was $count" }
        maxCrashes = count to window.toJavaDuration()
    }

    /** The longest delay between respawns of a crashing worker (default 10 s). */
    public fun maxBackoff(delay: Duration) {
        maxBackoff = delay.toJavaDuration()
    }
}
