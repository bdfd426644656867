package dev.kcluster.cli.systemd

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.WorkerState
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch

/**
 * Tells systemd (`Type=notify`) what the cluster is doing, from the watcher's [ClusterWatcher.events] alone:
 * - `READY=1`, `MAINPID=` and `STATUS=n/n workers ready` once every worker is READY at start;
 * - `RELOADING=1` with `MONOTONIC_USEC=` and `STATUS=reloading 0/n` when a rolling restart starts, `STATUS=reloading k/n` as replacements
 *   become READY, and `READY=1` with the status when it ends;
 * - `STOPPING=1` when a stop starts ([stopping]; at the latest at [ClusterEvent.Stopped]);
 * - `STATUS=k/n workers ready` as workers crash and come back;
 * - `WATCHDOG=1` every half of [watchdogMicros] while the watcher's event loop runs, when set.
 */
internal class SystemdNotifier(
    private val watcher: ClusterWatcher,
    private val socket: NotifySocket,
    private val watchdogMicros: Long? = null,
    private val pid: Long = ProcessHandle.current().pid(),
) {
    private var started = false
    /** Workers that reported READY before [started]. */
    private val startedIds = HashSet<Int>()
    private var reloading = false
    private var reloaded = 0
    private var stopping = false

    /** Starts following the events; call it before `start()`, so that no event is missed. */
    fun start(scope: CoroutineScope): Job =
        scope.launch(start = CoroutineStart.UNDISPATCHED) {
            watchdogMicros
                ?.takeIf { it > 0 }
                ?.let { usec ->
                    launch {
                        while (isActive) {
                            socket.send("WATCHDOG=1")
                            delay((usec / 2 / 1000).coerceAtLeast(1))
                        }
                    }
                }
            watcher.events.collect(::on)
        }

    /** A stop is starting: `STOPPING=1` (once). */
    @Synchronized
    fun stopping() {
        if (stopping) return
        stopping = true
        socket.send("STOPPING=1\nSTATUS=stopping")
    }

    @Synchronized
    private fun on(event: ClusterEvent) {
        if (stopping) return
        val n = watcher.workers.size
        when (event) {
            is ClusterEvent.RestartStarted -> {
                reloading = true
                reloaded = 0
                socket.send("RELOADING=1\nMONOTONIC_USEC=${System.nanoTime() / 1000}\nSTATUS=reloading 0/$n")
            }
            is ClusterEvent.RestartFinished -> {
                reloading = false
                val r = event.result
                val status =
                    if (r.rolledBack) "reload rolled back: ${r.reason}; ${ready()}/$n workers ready" else "${ready()}/$n workers ready"
                socket.send("READY=1\nSTATUS=$status")
            }
            is ClusterEvent.WorkerReady ->
                when {
                    reloading -> socket.send("STATUS=reloading ${++reloaded}/$n")
                    // Counted from the events, not from the workers' states: read from the states, the first event
                    // could already see every worker READY, and the next one would repeat the status.
                    !started ->
                        if (startedIds.add(event.worker.id) && n > 0 && startedIds.size >= n) {
                            started = true
                            socket.send("READY=1\nMAINPID=$pid\nSTATUS=$n/$n workers ready")
                        }
                    else -> socket.send("STATUS=${ready()}/$n workers ready")
                }
            is ClusterEvent.WorkerExited -> if (started && !reloading) socket.send("STATUS=${ready()}/$n workers ready")
            is ClusterEvent.Stopped -> stopping()
            else -> Unit
        }
    }

    private fun ready(): Int = watcher.workers.count { it.state == WorkerState.READY }

    companion object {
        /** `WATCHDOG_USEC` when it is meant for this process (`WATCHDOG_PID` unset or ours). */
        fun watchdogMicros(env: Map<String, String> = System.getenv(), pid: Long = ProcessHandle.current().pid()): Long? {
            val usec = env["WATCHDOG_USEC"]?.toLongOrNull()?.takeIf { it > 0 } ?: return null
            val forPid = env["WATCHDOG_PID"]?.toLongOrNull()
            return usec.takeIf { forPid == null || forPid == pid }
        }
    }
}
