package dev.kcluster

import java.io.IOException
import kotlinx.coroutines.flow.Flow

/** A worker's two-way message channel to its watcher ([Cluster.channel]). */
public interface WorkerChannel {
    /**
     * Sends [message] to the watcher. Returns once it is handed to the kernel; blocks only while the socket buffer is full. @throws
     * IOException when the watcher is gone.
     */
    @Throws(IOException::class) public fun send(message: Message)

    /**
     * The next message from the watcher, suspending until one arrives; null once the watcher is gone. It is a collector of [incoming] for
     * one message, with the same rules.
     */
    public suspend fun receive(): Message?

    /**
     * Messages from the watcher; completes when the connection closes. The rules are those of [ClusterWatcher.messages]: every active
     * collector gets every message; while nobody collects, up to 10,000 messages (64 MiB) wait for the first collector; beyond that
     * messages are dropped with one logged warning. A collector that ends while it is the only one hands back what it had not taken, so
     * successive [receive] calls lose nothing.
     */
    public val incoming: Flow<Message>
}

/** Sends [value], encoded with its kotlinx-serialization serializer. */
public inline fun <reified T> WorkerChannel.send(value: T): Unit = send(Message.of(value))
