package dev.kcluster

import kotlinx.coroutines.flow.Flow
import java.io.IOException

/**
 * A worker's two-way message channel to its watcher ([Cluster.channel]).
 */
public interface WorkerChannel {
    /**
     * Sends [message] to the watcher. Returns once it is handed to the kernel; blocks only while the
     * socket buffer is full. @throws IOException when the watcher is gone.
     */
    @Throws(IOException::class)
    public fun send(message: Message)

    /** The next message from the watcher, suspending until one arrives; null once the watcher is gone. */
    public suspend fun receive(): Message?

    /** Messages from the watcher as they arrive; completes when the connection closes. Each message goes to one collector. */
    public val incoming: Flow<Message>
}

/** Sends [value], encoded with its kotlinx-serialization serializer. */
public inline fun <reified T> WorkerChannel.send(value: T): Unit = send(Message.of(value))
