package dev.kcluster.internal.supervisor

import dev.kcluster.WorkerMessage
import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.messageFrom
import dev.kcluster.internal.log.LogRecord
import dev.kcluster.internal.log.Relay
import dev.kcluster.internal.messages.MessageHub

/**
 * What the watcher does with each frame a worker sends. Handlers run on the connection's reader thread, which also answers heartbeats, so
 * none of them may block: messages go to the bounded [MessageHub], log records to the log relay.
 */
internal object FrameRouting {
    fun route(
        w: RealWorker,
        conn: Connection,
        messages: MessageHub<WorkerMessage>,
        metrics: dev.kcluster.internal.metrics.WatcherMetrics? = null,
    ) {
        if (metrics != null) conn.on(FrameType.METRICS) { frame -> metrics.accept(w, frame.payload) }
        conn.on(FrameType.READY) { w.transition(LifeEvent.ReportedReady) }
        conn.on(FrameType.HELD) { w.transition(LifeEvent.Held) }
        conn.on(FrameType.MESSAGE) { frame -> messages.offer(WorkerMessage(w, messageFrom(frame))) }
        conn.on(FrameType.LOG) { frame -> Relay.emit(LogRecord.decode(frame.payload), w.id) }
        conn.on(FrameType.PONG) { frame ->
            w.lastPong = System.nanoTime()
            w.report(frame.payload)
        }
        conn.on(FrameType.STATS) { frame -> w.report(frame.payload) }
        conn.on(FrameType.STOPPING) { w.transition(LifeEvent.StoppingItself) }
        conn.on(FrameType.EXIT_REASON) { frame -> w.reported = PayloadReader(frame.payload, "EXIT_REASON").blob().decodeToString() }
    }
}
