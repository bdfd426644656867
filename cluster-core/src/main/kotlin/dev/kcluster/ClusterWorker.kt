package dev.kcluster

import java.io.IOException
import java.nio.channels.SocketChannel
import java.time.Instant

/** The watcher's handle on one worker process. */
public interface ClusterWorker {
    /** The worker id: 1, 2, …, never reused within a watcher. */
    public val id: Int

    /** The worker's place in the cluster, from 1; a respawned or restarted worker keeps its predecessor's slot. */
    public val slot: Int

    /** The operating-system process id. */
    public val pid: Long

    /** The current state. */
    public val state: WorkerState

    /** When the process was started. */
    public val startedAt: Instant

    /** How many workers held this worker's place before it (respawns and restarts). */
    public val restarts: Int

    /**
     * Sends [message] to this worker only.
     * @throws IOException when the worker is not connected (starting, or gone).
     */
    @Throws(IOException::class)
    public fun send(message: Message)

    /**
     * Hands an accepted client [socket] (with optional [data]) to this worker, which receives it
     * from [Cluster.clientSockets]. On success this process's copy is closed; on failure the caller keeps it.
     */
    @Throws(IOException::class)
    public fun sendSocket(socket: SocketChannel, data: Message?)
}

/** Sends [value], encoded with its kotlinx-serialization serializer. */
public inline fun <reified T> ClusterWorker.send(value: T): Unit = send(Message.of(value))
