package dev.kcluster.internal.supervisor

import dev.kcluster.ClusterException
import dev.kcluster.ExitReason
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope

/**
 * Grows the cluster by new slots, each with a worker that must become READY, or shrinks it by stopping the workers of the last slots. A
 * worker added by [grow] that fails before READY takes its slot with it: [grow] removes the slot, stops the process if it is still there,
 * and throws.
 */
internal class Scaling(
    private val spawner: Spawner,
    private val stopper: StopEscalation,
    private val readyTimeoutMillis: Long,
    private val addSlot: () -> Slot,
    private val removeSlot: (Slot) -> Unit,
) {
    /** Adds [count] slots and waits until their workers are READY; returns them. */
    suspend fun grow(count: Int): List<RealWorker> = coroutineScope {
        // All slots first, so every new worker is told the same cluster size (Cluster.workerCount).
        val slots = List(count) { addSlot() }
        val added = slots.map { slot -> spawner.launch(slot, 0, Origin.INITIAL).also { slot.worker = it } }
        val failures = added.map { w -> async { awaitReady(w, readyTimeoutMillis) } }.awaitAll().filterNotNull()
        for (f in failures) {
            f.worker.place?.let(removeSlot)
            if (f.worker.life !is Life.Exited) stopper.stop(f.worker)
        }
        val first = failures.firstOrNull() ?: return@coroutineScope added
        throw ClusterException("worker ${first.worker.id} failed to start: $first", first.why as? ExitReason)
    }

    /** Removes [slots] and waits until their workers have exited. */
    suspend fun shrink(slots: List<Slot>) = coroutineScope {
        slots.forEach(removeSlot)
        slots.mapNotNull { it.worker }.map { w -> async { stopper.stop(w) } }.awaitAll()
    }
}
