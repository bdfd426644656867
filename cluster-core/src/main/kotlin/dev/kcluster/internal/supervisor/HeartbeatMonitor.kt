package dev.kcluster.internal.supervisor

import dev.kcluster.internal.ipc.FrameType
import kotlin.coroutines.coroutineContext
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive

/**
 * Pings every connected worker each [intervalMillis]; a worker whose last PONG is older than [timeoutNanos] is reported once to [onHung]
 * (PONGs are answered on the worker's IPC reader thread, not by user code, so silence means a hung or stopped JVM).
 */
internal class HeartbeatMonitor(
    private val intervalMillis: Long,
    private val timeoutNanos: Long,
    private val workers: () -> Collection<RealWorker>,
    private val onHung: (RealWorker, silentMillis: Long) -> Unit,
) {
    suspend fun run() {
        while (coroutineContext.isActive) {
            delay(intervalMillis)
            val now = System.nanoTime()
            for (w in workers()) {
                val conn = w.conn ?: continue
                if (w.life is Life.Unresponsive || w.life is Life.Gone || w.life is Life.Exited || !conn.isOpen) continue
                runCatching { conn.send(FrameType.PING) }
                val silent = now - w.lastPong
                if (silent > timeoutNanos) onHung(w, silent / 1_000_000)
            }
        }
    }
}
