package dev.kcluster.internal.supervisor

import dev.kcluster.ExitReason
import dev.kcluster.WorkerState

/**
 * Where one worker is in its life, as the supervisor tracks it. The only way from one state to the next is [on]: every transition of a
 * worker is in that one `when`.
 *
 * ```
 * Starting ──READY──▶ Ready ──stop──▶ Draining ──exit──▶ Exited(expected)
 *  │  ▲                 │  └─missed heartbeats─▶ Unresponsive ──exit──▶ Exited(crash)
 *  │  └─promote─ Standby ◀─HELD─ (a standby's Starting)
 *  └────────────────────┴──────gone──▶ Gone ──────exit─────────────────▶ Exited(crash)
 * ```
 *
 * Gone: the process has ended and its last frames are still being read; a stop asked now cannot make it an expected exit, so the watcher
 * may replace it (promote a standby) before its exit is reported.
 */
internal sealed class Life(val state: WorkerState) {
    /** Launched; not READY yet. */
    data object Starting : Life(WorkerState.STARTING)

    /** Taking traffic. */
    data object Ready : Life(WorkerState.READY)

    /** A standby, held before it would start serving until it is promoted. */
    data object Standby : Life(WorkerState.STANDBY)

    /** Told to stop by the watcher ([byWatcher]), or stopping itself with `Cluster.stop()`; its exit is expected. */
    data class Draining(val byWatcher: Boolean) : Life(WorkerState.DRAINING)

    /** The process ended unasked, as [was]; its exit (a crash) is reported once its last frames are read. */
    data class Gone(val was: WorkerState) : Life(was)

    /** Missed heartbeats for [detail]; it is being killed, and its exit is a crash. */
    data class Unresponsive(val was: WorkerState, val detail: String) : Life(was)

    /** The process ended. */
    data class Exited(val reason: ExitReason, val stoppedItself: Boolean) :
        Life(if (reason.expected) WorkerState.STOPPED else WorkerState.CRASHED)

    /** The state after [event]; the same state when [event] changes nothing. */
    fun on(event: LifeEvent): Life =
        when (this) {
            Standby ->
                when (event) {
                    LifeEvent.Promoted -> Starting
                    LifeEvent.StopRequested -> Draining(byWatcher = true)
                    LifeEvent.StoppingItself -> Draining(byWatcher = false)
                    is LifeEvent.MissedHeartbeats -> Unresponsive(state, event.detail)
                    LifeEvent.ProcessGone -> Gone(state)
                    is LifeEvent.ProcessEnded -> exited(event, expected = false)
                    LifeEvent.ReportedReady,
                    LifeEvent.Held -> this
                }
            Starting,
            Ready ->
                when (event) {
                    LifeEvent.Held -> if (this === Starting) Standby else this
                    LifeEvent.Promoted -> this
                    LifeEvent.ReportedReady -> Ready
                    LifeEvent.StopRequested -> Draining(byWatcher = true)
                    LifeEvent.StoppingItself -> Draining(byWatcher = false)
                    is LifeEvent.MissedHeartbeats -> Unresponsive(state, event.detail)
                    LifeEvent.ProcessGone -> Gone(state)
                    is LifeEvent.ProcessEnded -> exited(event, expected = false)
                }
            is Draining ->
                when (event) {
                    // A worker that stopped itself stays "stopped itself" (its slot is dropped) even if the watcher asks too.
                    LifeEvent.ReportedReady,
                    LifeEvent.StopRequested,
                    LifeEvent.StoppingItself,
                    is LifeEvent.MissedHeartbeats,
                    LifeEvent.Held,
                    LifeEvent.Promoted,
                    LifeEvent.ProcessGone -> this
                    is LifeEvent.ProcessEnded -> exited(event, expected = true)
                }
            is Gone ->
                when (event) {
                    is LifeEvent.ProcessEnded -> exited(event, expected = false)
                    else -> this
                }
            is Unresponsive ->
                when (event) {
                    is LifeEvent.ProcessEnded -> exited(event.copy(reported = event.reported ?: detail), expected = false)
                    else -> this
                }
            is Exited -> this
        }

    private fun exited(e: LifeEvent.ProcessEnded, expected: Boolean): Exited {
        val signal = if (e.exitCode in 129..159) e.exitCode - 128 else null
        // A crash without a report is explained by the last lines of its stderr.
        val detail = e.reported ?: if (!expected && e.exitCode != 0) e.stderrTail else null
        return Exited(ExitReason(e.exitCode, signal, detail, expected), stoppedItself = this is Draining && !this.byWatcher)
    }
}

/** What can happen to a worker. */
internal sealed interface LifeEvent {
    /** The worker sent READY. */
    data object ReportedReady : LifeEvent

    /** A standby reached the point where it would start serving, and waits (HELD). */
    data object Held : LifeEvent

    /** The watcher promoted a standby (PROMOTE): it continues to READY. */
    data object Promoted : LifeEvent

    /** The watcher sent (or is about to send) STOP. */
    data object StopRequested : LifeEvent

    /** The worker sent STOPPING (`Cluster.stop()`): it ends by itself and is not replaced. */
    data object StoppingItself : LifeEvent

    /** No heartbeat answer; [detail] says for how long. */
    data class MissedHeartbeats(val detail: String) : LifeEvent

    /** The process is seen to have ended; its last frames may still be unread. */
    data object ProcessGone : LifeEvent

    /** The process ended with [exitCode]; [reported] is what it (or the watcher) said about why, [stderrTail] its last stderr lines. */
    data class ProcessEnded(val exitCode: Int, val reported: String?, val stderrTail: String?) : LifeEvent
}
