package dev.kcluster

/** A message a worker sent to the watcher; reply to its sender with `worker.send(…)`. */
public class WorkerMessage(
    /** The sender. */
    public val worker: ClusterWorker,
    /** The message. */
    public val message: Message,
) {
    /** Decodes the message as [T]. */
    public inline fun <reified T> data(): T = message.decode()

    override fun toString(): String = "WorkerMessage(worker ${worker.id}, $message)"
}
