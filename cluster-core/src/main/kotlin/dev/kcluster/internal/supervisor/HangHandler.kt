package dev.kcluster.internal.supervisor

import dev.kcluster.ClusterEvent
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.slf4j.Logger

/**
 * What happens to a worker that stopped answering heartbeats: its life becomes Unresponsive; a live hung JVM gets a thread dump into the
 * log (a stopped one, state T, cannot answer and is not asked); then a [ClusterEvent.WorkerUnresponsive] event and SIGKILL. Its exit is a
 * crash, respawned as usual.
 */
internal class HangHandler(
    private val javaCommand: String,
    private val scope: CoroutineScope,
    private val log: Logger,
    private val emit: (ClusterEvent) -> Unit,
) {
    fun hung(w: RealWorker, silentMillis: Long) {
        val detail = "unresponsive: no heartbeat answer for $silentMillis ms"
        if (w.transition(LifeEvent.MissedHeartbeats(detail)) !is Life.Unresponsive) return
        w.reported = detail
        scope.launch {
            val stopped = ThreadDump.isStopped(w.pid)
            if (stopped) {
                log.warn(
                    "worker {} (pid {}) has not answered heartbeats for {} ms; it is stopped (state T): killing it without a thread dump",
                    w.id,
                    w.pid,
                    silentMillis,
                )
            } else {
                log.warn("worker {} (pid {}) has not answered heartbeats for {} ms; taking a thread dump", w.id, w.pid, silentMillis)
            }
            val dump = if (stopped) null else withContext(Dispatchers.IO) { ThreadDump.take(w.pid, javaCommand) }
            if (dump != null) {
                log.warn("thread dump of worker {} (pid {}):\n{}", w.id, w.pid, dump)
            } else if (!stopped) {
                log.warn(
                    "no thread dump of worker {} (pid {}): jcmd/jstack did not answer (process stopped or hung in native code)",
                    w.id,
                    w.pid,
                )
            }
            emit(ClusterEvent.WorkerUnresponsive(w, dump))
            w.process.destroyForcibly()
        }
    }
}
