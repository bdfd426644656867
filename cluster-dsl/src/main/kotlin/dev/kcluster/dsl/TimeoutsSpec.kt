package dev.kcluster.dsl

import kotlin.time.Duration
import kotlin.time.toJavaDuration

/** Supervision timeouts: `timeouts { start(30.seconds); heartbeat(1.seconds, 15.seconds) }`. */
@ClusterDsl
public class TimeoutsSpec internal constructor() {
    internal var start: java.time.Duration? = null
    internal var ready: java.time.Duration? = null
    internal var stop: java.time.Duration? = null
    internal var heartbeat: Pair<java.time.Duration, java.time.Duration>? = null

    /** From launching a worker JVM to its handshake with the watcher (default 30 s). */
    public fun start(timeout: Duration) {
        start = timeout.toJavaDuration()
    }

    /** From launch to READY; the same setting as `restart { readyTimeout(…) }` (default 60 s). */
    public fun ready(timeout: Duration) {
        ready = timeout.toJavaDuration()
    }

    /** From STOP to exit, before SIGTERM and then SIGKILL (default 10 s). */
    public fun stop(timeout: Duration) {
        stop = timeout.toJavaDuration()
    }

    /** Ping every [interval]; a worker silent for [timeout] gets a thread dump and is replaced (defaults 1 s, 15 s). */
    public fun heartbeat(interval: Duration, timeout: Duration) {
        heartbeat = interval.toJavaDuration() to timeout.toJavaDuration()
    }
}
