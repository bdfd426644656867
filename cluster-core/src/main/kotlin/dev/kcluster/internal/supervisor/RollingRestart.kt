package dev.kcluster.internal.supervisor

import dev.kcluster.RestartResult
import org.slf4j.Logger

/**
 * Replaces the worker of each slot in turn: start its successor, wait until it is READY, only then stop the old worker and wait for it to
 * exit. A successor that fails READY is stopped and the restart ends there, keeping the remaining old workers.
 */
internal class RollingRestart(
    private val spawner: Spawner,
    private val stopper: StopEscalation,
    private val readyTimeoutMillis: Long,
    private val log: Logger,
    private val stillRunning: () -> Boolean,
    private val onReplaced: (old: RealWorker, fresh: RealWorker) -> Unit,
) {
    suspend fun run(slots: List<Slot>): RestartResult {
        var replaced = 0
        for (slot in slots) {
            if (!stillRunning()) break
            val old = slot.worker ?: continue
            val fresh = spawner.launch(slot, old.restarts + 1, Origin.REPLACEMENT)
            slot.successor = fresh
            try {
                val failed = awaitReady(fresh, readyTimeoutMillis)
                if (failed != null) {
                    val reason = "replacement worker ${fresh.id} for worker ${old.id} failed: $failed"
                    log.error("rolling restart rolled back: {}", reason)
                    stopper.stop(fresh)
                    return RestartResult(replaced, true, reason)
                }
                slot.worker = fresh
                onReplaced(old, fresh)
            } finally {
                slot.successor = null
            }
            stopper.stop(old)
            replaced++
        }
        log.info("rolling restart replaced {} workers", replaced)
        return RestartResult(replaced, false, null)
    }
}
