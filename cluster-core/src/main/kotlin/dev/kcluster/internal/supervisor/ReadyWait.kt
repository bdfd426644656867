package dev.kcluster.internal.supervisor

import kotlinx.coroutines.selects.select
import kotlinx.coroutines.withTimeoutOrNull

/** Why a worker did not become READY: its exit, or a timeout. */
internal class NotReady(val worker: RealWorker, val why: Any) {
    override fun toString(): String = why.toString()
}

/** Waits until [w] is READY (null) or has failed: exited, or not READY within [timeoutMillis]. */
internal suspend fun awaitReady(w: RealWorker, timeoutMillis: Long): NotReady? {
    val outcome =
        withTimeoutOrNull(timeoutMillis) {
            select<Any?> {
                w.ready.onAwait { null }
                w.exit.onAwait { it }
            }
        } ?: if (w.ready.isCompleted) null else "not READY within $timeoutMillis ms"
    return outcome?.let { NotReady(w, it) }
}
