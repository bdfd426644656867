package dev.kcluster

import java.time.Instant

/**
 * A snapshot of a cluster: the watcher's [phase] and its live workers in slot order ([ClusterWatcher.state]). During a rolling restart a
 * slot can show two workers: the old one and its successor, until the successor is READY and the old one has exited.
 */
public data class ClusterState(
    /** Where the watcher is in its life. */
    public val phase: Phase,
    /** The live worker processes, by slot. */
    public val workers: List<WorkerStatus>,
) {
    /** The watcher's life: NEW → STARTING → RUNNING → STOPPING → STOPPED. */
    public enum class Phase {
        NEW,
        STARTING,
        RUNNING,
        STOPPING,
        STOPPED,
    }

    /** How many workers are READY. */
    public val readyCount: Int
        get() = workers.count { it.state == WorkerState.READY }
}

/** One worker in a [ClusterState]. */
public data class WorkerStatus(
    /** The worker's place in the cluster, from 1; a respawned or restarted worker keeps its predecessor's slot. */
    public val slot: Int,
    /** The worker id ([ClusterWorker.id]). */
    public val id: Int,
    /** The operating-system process id. */
    public val pid: Long,
    /** The worker's state. */
    public val state: WorkerState,
    /** How many workers held this slot before it. */
    public val restarts: Int,
    /** When the process was started. */
    public val startedAt: Instant,
)
