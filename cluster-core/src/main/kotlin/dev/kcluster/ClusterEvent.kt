package dev.kcluster

/** Lifecycle events of a watcher and its workers ([ClusterWatcher.events]). */
public sealed class ClusterEvent {
    /** A worker process was launched. */
    public class WorkerStarted(public val worker: ClusterWorker) : ClusterEvent()

    /** A worker reported READY. */
    public class WorkerReady(public val worker: ClusterWorker) : ClusterEvent()

    /** A worker process ended. */
    public class WorkerExited(public val worker: ClusterWorker, public val reason: ExitReason) : ClusterEvent()

    /** A crashed worker was replaced by [worker] after [delayMillis]. */
    public class WorkerRespawned(public val previous: ClusterWorker, public val worker: ClusterWorker, public val delayMillis: Long) : ClusterEvent()

    /** A worker missed heartbeats; [threadDump] is its thread dump when one could be taken. It is killed next. */
    public class WorkerUnresponsive(public val worker: ClusterWorker, public val threadDump: String?) : ClusterEvent()

    /** A rolling restart began. */
    public object RestartStarted : ClusterEvent()

    /** A rolling restart ended. */
    public class RestartFinished(public val result: RestartResult) : ClusterEvent()

    /** The watcher stopped; [failure] is set when it stopped because workers kept crashing. */
    public class Stopped(public val failure: Throwable?) : ClusterEvent()

    override fun toString(): String = javaClass.simpleName
}
