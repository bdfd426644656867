package dev.kcluster.internal.supervisor

import dev.kcluster.ClientSocketSendPipe
import dev.kcluster.ClusterWorker
import dev.kcluster.ExitReason
import dev.kcluster.Message
import dev.kcluster.RestartResult
import dev.kcluster.WorkerLoad
import dev.kcluster.WorkerState
import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.Frame
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.ipc.toPayload
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.closeQuietly
import dev.kcluster.internal.procStatus
import dev.kcluster.internal.worker.LoadCounters
import java.io.IOException
import java.nio.channels.SocketChannel
import java.time.Instant
import kotlinx.coroutines.CompletableDeferred

/** What a worker's own controls ([ClusterWorker.restart], [ClusterWorker.stop]) ask of the watcher. */
internal interface WorkerOps {
    suspend fun restart(w: RealWorker): RestartResult

    suspend fun stop(w: RealWorker)
}

/** Why a worker was launched; decides who handles its failure before READY. */
internal enum class Origin {
    /** By start() or scale(): a failure before READY fails that call, and the worker is not respawned. */
    INITIAL,

    /** To replace a crashed worker: a failure goes through the restart policy again. */
    RESPAWN,

    /** By a rolling restart: a failure before READY rolls the restart back. */
    REPLACEMENT,

    /** A standby, in no slot until it is promoted (then it counts as [RESPAWN]). */
    STANDBY,
}

/** One worker JVM as the watcher sees it. Its state changes only through [transition]. */
internal class RealWorker(
    override val id: Int,
    place: Slot?,
    restarts: Int,
    val process: Process,
    origin: Origin,
    private val onChange: (RealWorker, Life, Life) -> Unit,
    private val ops: WorkerOps,
) : ClusterWorker {
    /** The slot; null for a standby until [promote]. */
    @Volatile
    var place: Slot? = place
        private set

    @Volatile
    override var restarts: Int = restarts
        private set

    @Volatile
    var origin: Origin = origin
        private set

    override val pid: Long = process.pid()
    override val startedAt: Instant = Instant.now()
    val startedNanos: Long = System.nanoTime()
    override val slot: Int
        get() = place?.index ?: 0

    @Volatile
    var life: Life = Life.Starting
        private set

    override val state: WorkerState
        get() = life.state

    @Volatile var conn: Connection? = null
    val ready = CompletableDeferred<Unit>()
    /** Completes once the exit has been handled (its WorkerExited event emitted), see [Spawner]. */
    val exit = CompletableDeferred<ExitReason>()

    /** Why it ends, as the worker reported it (EXIT_REASON) or the watcher found (no connection in time). */
    @Volatile var reported: String? = null
    @Volatile var lastPong: Long = System.nanoTime()
    /** The last load report (the balancer reads it on every connection; [load] also reads `/proc`). */
    @Volatile
    var reportedLoad: LoadCounters.Report? = null
        private set

    /** The restart policy's decision on this worker's crash, when it was taken as soon as its process was gone. */
    @Volatile var crashDecision: RestartPolicy.Decision? = null
    /** The standby promoted into this worker's slot as soon as its process was gone; announced when its exit is. */
    @Volatile var replacedBy: RealWorker? = null
    /** For a promoted standby: the exit of the crashed worker it replaced; its READY is announced after that exit. */
    @Volatile
    var predecessorExit: kotlinx.coroutines.Deferred<ExitReason>? = null
        private set

    /** The request limit for `--max-requests` recycling, jitter included; 0 for none. */
    @Volatile var requestLimit: Long = 0

    override val load: WorkerLoad
        get() {
            val r = reportedLoad
            return WorkerLoad(r?.requests ?: 0, r?.connections ?: 0, r?.heapAfterGc ?: 0, rss())
        }

    fun report(payload: ByteArray) {
        LoadCounters.decode(payload)?.let { reportedLoad = it }
    }

    private fun rss(): Long = procStatus(pid.toString(), "VmRSS")?.substringBefore(' ')?.toLongOrNull()?.times(1024) ?: 0L

    private val stderrTail = ArrayDeque<String>()

    /** Applies [event]; returns the new state. Listeners hear about every real change, in order. */
    fun transition(event: LifeEvent): Life {
        val (before, after) =
            synchronized(this) {
                val before = life
                val after = before.on(event)
                life = after
                before to after
            }
        if (after != before) {
            onChange(this, before, after)
            if (after === Life.Ready) ready.complete(Unit)
        }
        return after
    }

    /** A standby's LISTEN frames, held until [promote]; null when LISTEN is answered at once. Guarded by `this`. */
    private var heldListens: ArrayList<Frame>? = null
    @Volatile private var answerListen: ((Frame) -> Unit)? = null

    /**
     * For a standby: its LISTEN frames are held, not answered, until [promote]. The standby sends its first LISTEN before it waits to be
     * promoted, so a promotion answers it at once, with no round trip then; and it holds no socket before. More than [MAX_HELD_LISTENS]
     * held frames is a misbehaving program: its connection is closed.
     */
    fun holdListens(conn: Connection) {
        val answer = conn.handler(FrameType.LISTEN) ?: return
        answerListen = answer
        synchronized(this) { heldListens = ArrayList() }
        conn.on(FrameType.LISTEN) { frame ->
            frame.fd?.closeQuietly() // LISTEN carries no descriptor
            var now = false
            var overflow = false
            synchronized(this) {
                val held = heldListens
                when {
                    held == null -> now = true
                    held.size >= MAX_HELD_LISTENS -> overflow = conn.isOpen
                    else -> held += frame
                }
            }
            if (now) answer(frame)
            if (overflow) {
                conn.close()
                log.warn("standby worker {} sent more than {} LISTEN requests before its promotion; closed it", id, MAX_HELD_LISTENS)
            }
        }
    }

    /** A standby takes [slot] after [predecessor]; then sends PROMOTE so its program continues to READY, and answers its held LISTENs. */
    fun promote(slot: Slot, predecessor: RealWorker) {
        place = slot
        predecessorExit = predecessor.exit
        restarts = predecessor.restarts + 1
        origin = Origin.RESPAWN
        transition(LifeEvent.Promoted)
        conn?.send(FrameType.PROMOTE)
        val held = synchronized(this) { heldListens.also { heldListens = null } }
        val answer = answerListen ?: return
        for (frame in held.orEmpty()) {
            try {
                answer(frame)
            } catch (e: Exception) {
                log.warn("worker {}: a held LISTEN failed: {}", id, e.message)
                if (e is dev.kcluster.ProtocolException) conn?.close()
            }
        }
    }

    fun stderrLine(line: String) =
        synchronized(stderrTail) {
            stderrTail.addLast(line)
            if (stderrTail.size > 20) stderrTail.removeFirst()
        }

    fun stderrTail(): String? = synchronized(stderrTail) { if (stderrTail.isEmpty()) null else stderrTail.joinToString("\n") }

    private fun connection(): Connection = conn?.takeIf { it.isOpen } ?: throw IOException("worker $id is not connected (state $state)")

    override fun send(message: Message) = connection().send(FrameType.MESSAGE, message.toPayload())

    /** LEADERSHIP(granted, epoch): the group's leadership for this worker, from a coordination module. */
    fun sendLeadership(granted: Boolean, epoch: Long) =
        connection().send(FrameType.LEADERSHIP, PayloadWriter(9).bool(granted).i64(epoch).toByteArray())

    override fun sendSocket(socket: SocketChannel, data: Message?) {
        connection().send(FrameType.CLIENT_SOCKET, ClientSocketSendPipe.encodeClientSocket(socket, data), JdkChannels.fdOf(socket))
        socket.close()
    }

    override suspend fun restart(): RestartResult = ops.restart(this)

    override suspend fun stop() = ops.stop(this)

    override fun kill() {
        process.destroyForcibly()
    }

    override fun toString(): String = "worker $id (slot $slot, pid $pid, $state)"

    private companion object {
        val log = org.slf4j.LoggerFactory.getLogger(RealWorker::class.java)

        /** LISTEN frames a standby may have waiting: one per address it serves. */
        const val MAX_HELD_LISTENS = 64
    }
}

/**
 * A place in the cluster, numbered from 1 (the lowest free number), held by one worker at a time; respawns and restarts refill it. While a
 * rolling restart starts a worker's successor, [successor] holds it, and a crash of the current worker is not respawned (the successor
 * takes over).
 */
internal class Slot(val index: Int) {
    @Volatile var worker: RealWorker? = null
    @Volatile var successor: RealWorker? = null
}
