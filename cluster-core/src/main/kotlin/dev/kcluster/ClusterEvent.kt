package dev.kcluster

/** Lifecycle events of a watcher and its workers ([ClusterWatcher.events]); `toString` names the worker and the reason. */
public sealed class ClusterEvent {
    /** A worker process was launched. */
    public class WorkerStarted(public val worker: ClusterWorker) : ClusterEvent() {
        override fun toString(): String = "WorkerStarted(${worker.describe()})"
    }

    /** A worker reported READY. */
    public class WorkerReady(public val worker: ClusterWorker) : ClusterEvent() {
        override fun toString(): String = "WorkerReady(${worker.describe()})"
    }

    /** A worker process ended. */
    public class WorkerExited(public val worker: ClusterWorker, public val reason: ExitReason) : ClusterEvent() {
        override fun toString(): String = "WorkerExited(${worker.describe()}, ${if (reason.expected) "stopped" else "crashed"}: $reason)"
    }

    /** A crashed worker was replaced by [worker] after [delayMillis]. */
    public class WorkerRespawned(public val previous: ClusterWorker, public val worker: ClusterWorker, public val delayMillis: Long) :
        ClusterEvent() {
        override fun toString(): String = "WorkerRespawned(${previous.describe()} -> ${worker.describe()} after $delayMillis ms)"
    }

    /** A worker missed heartbeats; [threadDump] is its thread dump when one could be taken. It is killed next. */
    public class WorkerUnresponsive(public val worker: ClusterWorker, public val threadDump: String?) : ClusterEvent() {
        override fun toString(): String =
            "WorkerUnresponsive(${worker.describe()}, ${if (threadDump != null) "thread dump taken" else "no thread dump"})"
    }

    /**
     * A worker passed a recycling limit and is being replaced (successor first, then it drains); [reason] is `requests`, `heap` or `rss`.
     */
    public class WorkerRecycling(public val worker: ClusterWorker, public val reason: String) : ClusterEvent() {
        override fun toString(): String = "WorkerRecycling(${worker.describe()}, $reason)"
    }

    /** A rolling restart of [workers] workers began. */
    public class RestartStarted(public val workers: Int) : ClusterEvent() {
        override fun toString(): String = "RestartStarted($workers workers)"
    }

    /** A rolling restart ended. */
    public class RestartFinished(public val result: RestartResult) : ClusterEvent() {
        override fun toString(): String = "RestartFinished($result)"
    }

    /** The watcher stopped; [failure] is set when it stopped because workers kept crashing. */
    public class Stopped(public val failure: Throwable?) : ClusterEvent() {
        override fun toString(): String = if (failure == null) "Stopped" else "Stopped(failure: ${failure.message})"
    }
}

private fun ClusterWorker.describe(): String = "worker $id, slot $slot, pid $pid"
