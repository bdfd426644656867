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

    /** What the worker last reported about its load, and its resident memory now. */
    public val load: WorkerLoad

    /** How many workers held this worker's place before it (respawns and restarts). */
    public val restarts: Int

    /**
     * Sends [message] to this worker only.
     *
     * @throws IOException when the worker is not connected (starting, or gone).
     */
    @Throws(IOException::class) public fun send(message: Message)

    /**
     * Hands an accepted client [socket] (with optional [data]) to this worker, which receives it from [Cluster.clientSockets]. On success
     * this process's copy is closed; on failure the caller keeps it.
     */
    @Throws(IOException::class) public fun sendSocket(socket: SocketChannel, data: Message?)

    /**
     * Replaces this worker alone, like one step of a rolling restart: its successor takes the slot once READY, then this worker drains and
     * exits. Rolled back (this worker kept) when the successor fails. Java: `JavaClusterWatcher.restartWorker`.
     *
     * @throws IllegalStateException when the watcher is not running or this is a standby.
     */
    public suspend fun restart(): RestartResult

    /**
     * Stops this worker gracefully (STOP, then SIGTERM, then SIGKILL) and removes its slot: the cluster shrinks by one (stopping the last
     * worker stops the watcher). Java: `JavaClusterWatcher.stopWorker`.
     */
    public suspend fun stop()

    /** Kills this worker at once with SIGKILL; the watcher treats that as a crash and respawns it. */
    public fun kill()
}

/** Sends [value], encoded with its kotlinx-serialization serializer. */
public inline fun <reified T> ClusterWorker.send(value: T): Unit = send(Message.of(value))
