package dev.kcluster.internal.supervisor

import dev.kcluster.internal.ipc.FrameType
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.Logger

/** Stops one worker: STOP, then SIGTERM after [stopTimeoutMillis], then SIGKILL after [termGraceMillis] more. */
internal class StopEscalation(
    private val stopTimeoutMillis: Long,
    private val log: Logger,
    private val termGraceMillis: Long = 5_000,
    /** Runs after the worker is marked draining and before STOP is sent (the balancer stops routing to it). */
    private val beforeStop: (RealWorker) -> Unit = {},
) {
    suspend fun stop(w: RealWorker) {
        w.transition(LifeEvent.StopRequested)
        beforeStop(w)
        w.conn?.let { c -> runCatching { c.send(FrameType.STOP) } }
        if (withTimeoutOrNull(stopTimeoutMillis) { w.exit.await() } != null) return
        log.warn("worker {} (pid {}) did not stop within {} ms; sending SIGTERM", w.id, w.pid, stopTimeoutMillis)
        w.process.destroy()
        if (withTimeoutOrNull(termGraceMillis) { w.exit.await() } != null) return
        log.warn("worker {} (pid {}) ignored SIGTERM; sending SIGKILL", w.id, w.pid)
        w.process.destroyForcibly()
        w.exit.await()
    }
}
