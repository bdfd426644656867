package dev.kcluster.internal.worker

import dev.kcluster.ClientSocketReceivePipe
import dev.kcluster.Leadership
import dev.kcluster.Message
import dev.kcluster.ReadyPolicy
import dev.kcluster.ServerSocketPipeFactory
import dev.kcluster.WorkerChannel
import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.ipc.messageFrom
import dev.kcluster.internal.ipc.toPayload
import dev.kcluster.internal.log.LogRecord
import dev.kcluster.internal.messages.MessageHub
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.firstOrNull
import kotlinx.coroutines.flow.update
import org.slf4j.LoggerFactory

/** Everything a worker process holds about its watcher; one per worker JVM. */
internal class WorkerRuntime(
    val id: Int,
    val conn: Connection,
    val readyPolicy: ReadyPolicy,
    val clusterSize: Int,
    val reusePort: Boolean,
    /** True for a standby: [awaitPromotion] holds the program until the watcher sends PROMOTE. */
    val standby: Boolean = false,
) : WorkerChannel {
    private val promoted = java.util.concurrent.CountDownLatch(if (standby) 1 else 0)

    /** True until the watcher promotes this standby; always false for other workers. */
    val awaitingPromotion: Boolean
        get() = promoted.count > 0

    private val heldSent = AtomicBoolean()
    val termination = CompletableDeferred<Unit>()
    private val inbox =
        MessageHub<Message>(INBOX_COUNT, INBOX_BYTES, LoggerFactory.getLogger(WorkerChannel::class.java), "messages from the watcher") {
            it.size + 64
        }
    private val readySent = AtomicBoolean()
    val exiting = AtomicBoolean()
    val clientSockets = ClientSocketReceivePipe(conn)
    private val leadershipState = MutableStateFlow(Leadership.NONE)
    val leadership: StateFlow<Leadership>
        get() = leadershipState

    val serverSockets = ServerSocketPipeFactory(conn, beforeListen = ::awaitPromotion) { if (readyPolicy == ReadyPolicy.LISTEN) ready() }

    /** Test hook: while true, PINGs are not answered (the reader thread blocks), like a hung JVM. */
    @Volatile var stallHeartbeats = false

    init {
        conn.on(FrameType.PING) { frame ->
            while (stallHeartbeats) Thread.sleep(10)
            conn.send(FrameType.PONG, LoadCounters.encode())
        }
        conn.on(FrameType.STOP) { termination.complete(Unit) }
        conn.on(FrameType.PROMOTE) { promoted.countDown() }
        System.getenv(ENV_MAX_HEAP)?.toLongOrNull()?.let(::watchHeap)
        conn.on(FrameType.MESSAGE) { frame -> inbox.offer(messageFrom(frame)) }
        conn.on(FrameType.LEADERSHIP) { frame ->
            val r = PayloadReader(frame.payload, "LEADERSHIP")
            val granted = r.bool()
            val epoch = r.i64()
            leadershipState.update { now ->
                if (!granted) now.copy(isLeader = false) else if (epoch > now.epoch) Leadership(true, epoch) else now
            }
        }
        conn.closed.whenComplete { _, _ ->
            leadershipState.update { it.copy(isLeader = false) } // no watcher, no leadership
            inbox.close()
            termination.complete(Unit)
        }
    }

    /** Reports at once (STATS) when a heap pool's usage after GC crosses [limit] (`--max-memory`); PONGs report it too. */
    private fun watchHeap(limit: Long) {
        val pools =
            java.lang.management.ManagementFactory.getMemoryPoolMXBeans().filter {
                it.type == java.lang.management.MemoryType.HEAP && it.isCollectionUsageThresholdSupported
            }
        pools.forEach { runCatching { it.collectionUsageThreshold = limit.coerceAtMost(it.usage.max.takeIf { m -> m > 0 } ?: limit) } }
        val emitter = java.lang.management.ManagementFactory.getMemoryMXBean() as javax.management.NotificationEmitter
        emitter.addNotificationListener(
            { n, _ ->
                if (n.type == java.lang.management.MemoryNotificationInfo.MEMORY_COLLECTION_THRESHOLD_EXCEEDED) {
                    runCatching { conn.send(FrameType.STATS, LoadCounters.encode()) }
                }
            },
            null,
            null,
        )
    }

    fun ready() {
        awaitPromotion()
        if (readySent.compareAndSet(false, true)) conn.send(FrameType.READY)
    }

    /**
     * A standby's program waits here, at the point where it would start serving (its first listen, `Cluster.ready()`, or before `main`
     * under the START policy), until the watcher promotes it; the first time, the watcher is told (HELD) that this standby is warm. A
     * standby stopped while held exits 0 at once. Returns at once otherwise.
     */
    fun awaitPromotion() {
        if (promoted.count == 0L) return
        if (heldSent.compareAndSet(false, true)) {
            dev.kcluster.internal.net.JdkChannels.warmUp()
            runCatching { conn.send(FrameType.HELD) }
        }
        while (!promoted.await(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            if (!conn.isOpen) throw IllegalStateException("the watcher went away before promoting this standby")
            if (termination.isCompleted && exiting.compareAndSet(false, true)) {
                // Stopped while held (a rolling restart replaces standbys): it never served, so there is nothing
                // to drain and no point in going on into the program; exit 0 as a stopped worker does.
                runCatching { conn.flush() }
                Thread({ kotlin.system.exitProcess(0) }, "kcluster-exit").start()
                while (true) java.util.concurrent.locks.LockSupport.park()
            }
        }
    }

    /** Graceful self-termination: tell the watcher not to respawn us, then end awaitTermination(). */
    fun stopSelf() {
        runCatching { conn.send(FrameType.STOPPING) }
        termination.complete(Unit)
    }

    fun reportExit(text: String) {
        runCatching { conn.send(FrameType.EXIT_REASON, PayloadWriter().blob(text.encodeToByteArray()).toByteArray()) }
    }

    fun forwardLog(record: LogRecord): Boolean {
        if (!conn.isOpen) return false
        return runCatching { conn.send(FrameType.LOG, record.encode()) }.isSuccess
    }

    override fun send(message: Message) = conn.send(FrameType.MESSAGE, message.toPayload())

    override suspend fun receive(): Message? = inbox.flow.firstOrNull()

    override val incoming: Flow<Message>
        get() = inbox.flow

    companion object {
        @Volatile var current: WorkerRuntime? = null

        const val ENV_SOCKET = "KCLUSTER_SOCKET"
        const val ENV_ID = "KCLUSTER_WORKER_ID"
        const val ENV_WORKERS = "KCLUSTER_WORKERS"
        const val ENV_READY = "KCLUSTER_READY"
        const val ENV_SOCKET_MODE = "KCLUSTER_SOCKET_MODE"
        const val ENV_MAX_FRAME = "KCLUSTER_MAX_FRAME"
        const val ENV_STANDBY = "KCLUSTER_STANDBY"
        const val ENV_MAX_HEAP = "KCLUSTER_MAX_HEAP"
        const val INBOX_COUNT = 10_000
        const val INBOX_BYTES = 64L * 1024 * 1024
        const val ENV_ORPHAN_GRACE = "KCLUSTER_ORPHAN_GRACE_MS"
    }
}
