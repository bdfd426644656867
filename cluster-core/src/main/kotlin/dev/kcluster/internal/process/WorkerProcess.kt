package dev.kcluster.internal.process

import dev.kcluster.ClientSocketSendPipe
import dev.kcluster.ClusterWorker
import dev.kcluster.ExitReason
import dev.kcluster.Message
import dev.kcluster.WorkerState
import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.toPayload
import dev.kcluster.internal.net.JdkChannels
import kotlinx.coroutines.CompletableDeferred
import java.io.IOException
import java.nio.channels.SocketChannel
import java.time.Instant

/** One worker JVM as the watcher sees it. */
internal class WorkerProcess(
    override val id: Int,
    val slot: Slot,
    override val restarts: Int,
    val process: Process,
) : ClusterWorker {
    override val pid: Long = process.pid()
    override val startedAt: Instant = Instant.now()
    val startedNanos: Long = System.nanoTime()
    @Volatile override var state: WorkerState = WorkerState.STARTING
    @Volatile var conn: Connection? = null
    val ready = CompletableDeferred<Unit>()
    val exit = CompletableDeferred<ExitReason>()
    @Volatile var stopRequested = false
    @Volatile var selfStopped = false
    @Volatile var detail: String? = null
    @Volatile var lastPong: Long = System.nanoTime()
    @Volatile var unresponsive = false
    @Volatile var awaited = false
    private val stderrTail = ArrayDeque<String>()

    fun stderrLine(line: String) = synchronized(stderrTail) {
        stderrTail.addLast(line)
        if (stderrTail.size > 20) stderrTail.removeFirst()
    }

    fun stderrTail(): String? = synchronized(stderrTail) { if (stderrTail.isEmpty()) null else stderrTail.joinToString("\n") }

    private fun connection(): Connection = conn?.takeIf { it.isOpen } ?: throw IOException("worker $id is not connected (state $state)")

    override fun send(message: Message) = connection().send(FrameType.MESSAGE, message.toPayload())

    override fun sendSocket(socket: SocketChannel, data: Message?) {
        connection().send(FrameType.CLIENT_SOCKET, ClientSocketSendPipe.encodeClientSocket(socket, data), JdkChannels.fdOf(socket))
        socket.close()
    }

    override fun toString(): String = "worker $id (pid $pid, $state)"
}

/** A place in the cluster, held by one worker at a time; respawns and restarts refill it. */
internal class Slot {
    @Volatile lateinit var worker: WorkerProcess
    @Volatile var replacing = false
    var crashes = 0
}
