package dev.kcluster.internal.log

/**
 * Implemented by the `ILoggerFactory` of an SLF4J backend that writes worker records itself, keeping their own time, thread and MDC and
 * naming the worker as their source (`cluster-logging` does). With any other backend the watcher re-logs worker records through SLF4J with
 * `worker` in the MDC. Called on kcluster's log writer thread only. Plumbing, not an application API.
 */
@dev.kcluster.InternalKclusterApi
public interface WorkerRecordWriter {
    /** Writes [record], which worker [workerId] sent (or printed on stdout/stderr). */
    public fun writeWorkerRecord(record: LogRecord, workerId: Int)
}
