package dev.kcluster.internal.group

import dev.kcluster.GroupConfig

/**
 * The limits of cluster-wide broadcasts: a payload of at most [GroupConfig.MAX_BROADCAST_BYTES], and a token bucket of
 * [GroupConfig.BROADCAST_BURST] tokens refilled at [GroupConfig.BROADCASTS_PER_SECOND] per second. [clock] gives nanoseconds (injected in
 * tests).
 */
internal class BroadcastLimit(
    private val perSecond: Int = GroupConfig.BROADCASTS_PER_SECOND,
    private val burst: Int = GroupConfig.BROADCAST_BURST,
    private val clock: () -> Long = System::nanoTime,
) {
    private var tokens = burst.toDouble()
    private var last = clock()

    /** @throws IllegalArgumentException when [size] is too large; @throws IllegalStateException past the rate limit (nothing is sent). */
    @Synchronized
    fun take(size: Int) {
        require(size <= GroupConfig.MAX_BROADCAST_BYTES) {
            "a cluster-wide broadcast holds at most ${GroupConfig.MAX_BROADCAST_BYTES} bytes (64 KiB); this one has $size bytes"
        }
        val now = clock()
        tokens = minOf(burst.toDouble(), tokens + (now - last) / 1e9 * perSecond)
        last = now
        check(tokens >= 1.0) {
            "cluster-wide broadcast rate limit: at most $perSecond per second per watcher (bursts of $burst); this one was not sent, retry later"
        }
        tokens -= 1.0
    }

    /** Gives back the token of a broadcast that [take] allowed but that could not be sent. */
    @Synchronized
    fun refund() {
        tokens = minOf(burst.toDouble(), tokens + 1.0)
    }
}
