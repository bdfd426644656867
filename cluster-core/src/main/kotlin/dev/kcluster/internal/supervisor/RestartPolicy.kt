package dev.kcluster.internal.supervisor

/**
 * When to respawn a crashed worker, and when to give up: a pure function of the crash history and [clock] (nanoseconds, monotonic), in the
 * manner of Erlang/OTP's intensity and period.
 * - More than [maxRestarts] crashes, counted across the cluster, within [windowNanos] → [Decision.GiveUp].
 * - Otherwise a slot's first crash is respawned at once; each further crash of the same slot waits [initialBackoffMillis], doubling, up to
 *   [maxBackoffMillis].
 * - A worker that ran for [stableNanos] before crashing resets its slot's sequence.
 */
internal class RestartPolicy(
    private val maxRestarts: Int,
    private val windowNanos: Long,
    private val maxBackoffMillis: Long,
    private val clock: () -> Long = System::nanoTime,
    private val initialBackoffMillis: Long = 100,
    private val stableNanos: Long = 60_000_000_000,
) {
    sealed interface Decision {
        /** Respawn after [delayMillis]. */
        data class Respawn(val delayMillis: Long) : Decision

        /** Stop the cluster: [crashes] crashes within the window. */
        data class GiveUp(val crashes: Int) : Decision
    }

    private val crashTimes = ArrayDeque<Long>()
    private val slotCrashes = HashMap<Int, Int>()

    /** Records a crash of the worker in [slot] that had run for [uptimeNanos], and decides. */
    @Synchronized
    fun onCrash(slot: Int, uptimeNanos: Long): Decision {
        val now = clock()
        crashTimes.addLast(now)
        while (crashTimes.isNotEmpty() && now - crashTimes.first() > windowNanos) crashTimes.removeFirst()
        if (crashTimes.size > maxRestarts) return Decision.GiveUp(crashTimes.size)
        val before = if (uptimeNanos >= stableNanos) 0 else slotCrashes[slot] ?: 0
        slotCrashes[slot] = before + 1
        if (before == 0) return Decision.Respawn(0)
        val delay = (initialBackoffMillis shl (before - 1).coerceAtMost(20)).coerceAtMost(maxBackoffMillis)
        return Decision.Respawn(delay)
    }

    /** Forgets [slot] (it was removed from the cluster). */
    @Synchronized
    fun forget(slot: Int) {
        slotCrashes.remove(slot)
    }
}
