package dev.kcluster.internal.process

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterException
import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.ExitReason
import dev.kcluster.Message
import dev.kcluster.RestartResult
import dev.kcluster.ServerSocketPipeProvider
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import dev.kcluster.WorkerState
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.Handshake
import dev.kcluster.internal.ipc.IpcHub
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.messageFrom
import dev.kcluster.internal.ipc.toPayload
import dev.kcluster.internal.log.LogOutput
import dev.kcluster.internal.log.LogRecord
import dev.kcluster.internal.log.Relay
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.future.await
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.selects.select
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory
import org.slf4j.event.Level
import java.net.InetSocketAddress
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

internal class RealClusterWatcher(override val config: WatcherConfig) : ClusterWatcher {
    private enum class Phase { NEW, RUNNING, STOPPING, STOPPED }

    private val log = LoggerFactory.getLogger(ClusterWatcher::class.java)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("kcluster-watcher"))
    private val lifecycle = Mutex()
    private val nextId = AtomicInteger()
    private val slots = CopyOnWriteArrayList<Slot>()
    private val live = java.util.concurrent.ConcurrentHashMap<Int, WorkerProcess>()
    private val crashTimes = ArrayDeque<Long>()
    private val provider = ServerSocketPipeProvider()
    private val messageQueue = Channel<WorkerMessage>(Channel.UNLIMITED)
    private val eventFlow = MutableSharedFlow<ClusterEvent>(extraBufferCapacity = 4096, onBufferOverflow = BufferOverflow.DROP_OLDEST)
    private val terminated = CompletableDeferred<Throwable?>()
    private val stopDone = CompletableDeferred<Unit>()
    @Volatile private var phase = Phase.NEW
    @Volatile private var failure: Throwable? = null
    init {
        if (LogOutput.source == "main") LogOutput.source = "watcher"
    }

    private lateinit var hub: IpcHub
    private lateinit var launcher: Launcher
    private var heartbeat: Job? = null
    private val exitHook = Thread({ hub.close(); provider.close() }, "kcluster-watcher-exit")

    override val workers: List<ClusterWorker> get() = slots.mapNotNull { s -> runCatching { s.worker }.getOrNull() }
    override val messages: Flow<WorkerMessage> = messageQueue.receiveAsFlow()
    override val events: SharedFlow<ClusterEvent> = eventFlow.asSharedFlow()
    override val listeningAddresses: List<InetSocketAddress> get() = provider.addresses

    override suspend fun start(count: Int) {
        require(count >= 1) { "a cluster needs at least 1 worker, got $count" }
        lifecycle.withLock {
            check(phase == Phase.NEW) { "this watcher was already started; create a new ClusterWatcher to start again" }
            launcher = Launcher(config)
            hub = IpcHub(config.startTimeout.toMillis(), config.maxFrameSize)
            // If this JVM ends without stop() (SIGTERM, System.exit), still remove the IPC directory;
            // the workers see their connection close and exit by themselves.
            Runtime.getRuntime().addShutdownHook(exitHook)
            phase = Phase.RUNNING
            heartbeat = scope.launch { heartbeatLoop() }
            val started = List(count) { Slot().also(slots::add) }.map { slot -> spawn(slot, 0).also { it.awaited = true } }
            val failed = started.map { w -> scope.async { awaitReady(w) } }.awaitAll().firstOrNull { it != null }
            if (failed != null) {
                val e = ClusterException("worker failed to start: ${failed.second}", failed.second as? ExitReason)
                failure = e
                scope.launch { stop() }
                throw e
            }
            log.info("{} workers ready", count)
            // Class-data archive missing or stale: one background training run; later launches use it.
            launcher.trainer(count)?.let { t -> scope.launch { t.train() } }
        }
    }

    /** Null when READY; else the worker and why it failed (an ExitReason or a text). */
    private suspend fun awaitReady(w: WorkerProcess): Pair<WorkerProcess, Any>? {
        val outcome = withTimeoutOrNull(config.readyTimeout.toMillis()) {
            select<Any?> {
                w.ready.onAwait { null }
                w.exit.onAwait { it }
            }
        } ?: if (w.ready.isCompleted) null else "not READY within ${config.readyTimeout.toMillis()} ms"
        return outcome?.let { w to it }
    }

    /** Launches a worker for [slot]; it takes the slot at once unless it is a restart's replacement ([install] false). */
    private fun spawn(slot: Slot, restarts: Int, install: Boolean = true): WorkerProcess {
        val id = nextId.incrementAndGet()
        val key = Handshake.newKey()
        val expected = hub.expect(id, key)
        val process = try {
            launcher.start(id, hub.socketPath, slots.size)
        } catch (e: Exception) {
            expected.cancel(e)
            throw ClusterException("cannot launch a worker with ${config.javaCommand}: ${e.message}", cause = e)
        }
        expected.pid.complete(process.pid())
        val w = WorkerProcess(id, slot, restarts, process)
        if (install) slot.worker = w
        live[id] = w
        runCatching {
            process.outputStream.use { it.write((Handshake.toHex(key) + "\n").toByteArray()) }
        }
        Relay.lines(process.inputStream, "worker $id stdout") { line -> Relay.emit(LogRecord(System.currentTimeMillis(), Level.INFO.toInt(), "stdout", "", line, null, emptyMap()), id) }
        Relay.lines(process.errorStream, "worker $id stderr") { line ->
            w.stderrLine(line)
            Relay.emit(LogRecord(System.currentTimeMillis(), Level.WARN.toInt(), "stderr", "", line, null, emptyMap()), id)
        }
        process.onExit().thenRun { expected.cancel(IllegalStateException("worker $id exited before connecting")) }
        eventFlow.tryEmit(ClusterEvent.WorkerStarted(w))
        scope.launch { runWorker(w, expected) }
        return w
    }

    private suspend fun runWorker(w: WorkerProcess, expected: IpcHub.Expected) {
        val conn = withTimeoutOrNull(config.startTimeout.toMillis()) { runCatching { expected.connection.await() }.getOrNull() }
        if (conn == null) {
            if (w.process.isAlive) {
                w.detail = "did not connect to the watcher within ${config.startTimeout.toMillis()} ms"
                expected.cancel(IllegalStateException("timeout"))
                w.process.destroyForcibly()
            }
        } else {
            w.conn = conn
            w.lastPong = System.nanoTime()
            provider.serve(conn)
            conn.on(FrameType.READY) {
                if (w.state == WorkerState.STARTING) w.state = WorkerState.READY
                if (w.ready.complete(Unit)) eventFlow.tryEmit(ClusterEvent.WorkerReady(w))
            }
            conn.on(FrameType.MESSAGE) { frame -> messageQueue.trySend(WorkerMessage(w, messageFrom(frame))) }
            conn.on(FrameType.LOG) { frame -> Relay.emit(LogRecord.decode(frame.payload), w.id) }
            conn.on(FrameType.PONG) { w.lastPong = System.nanoTime() }
            conn.on(FrameType.STOPPING) { w.selfStopped = true; w.state = WorkerState.DRAINING }
            conn.on(FrameType.EXIT_REASON) { frame -> w.detail = PayloadReader(frame.payload, "EXIT_REASON").blob().decodeToString() }
            conn.start()
            if (w.stopRequested) runCatching { conn.send(FrameType.STOP) }
        }
        val code = w.process.onExit().await().exitValue()
        // Every frame the worker sent before dying is dispatched before its exit is reported.
        w.conn?.let { c -> withTimeoutOrNull(2_000) { c.closed.await() }; c.close() }
        handleExit(w, code)
    }

    private suspend fun handleExit(w: WorkerProcess, code: Int) {
        live.remove(w.id)
        val expected = w.stopRequested || w.selfStopped
        val signal = if (code > 128 && code < 160) code - 128 else null
        val detail = w.detail ?: if (!expected && code != 0) w.stderrTail() else null
        val reason = ExitReason(code, signal, detail, expected)
        w.state = if (expected) WorkerState.STOPPED else WorkerState.CRASHED
        if (expected) log.info("worker {} (pid {}) exited: {}", w.id, w.pid, reason) else log.warn("worker {} (pid {}) crashed: {}", w.id, w.pid, reason)
        eventFlow.tryEmit(ClusterEvent.WorkerExited(w, reason))
        w.exit.complete(reason)
        val slot = w.slot
        if (phase != Phase.RUNNING || slot.worker !== w) return
        if (w.selfStopped) {
            slots.remove(slot)
            if (slots.isEmpty()) scope.launch { stop() }
            return
        }
        // A worker that start() or scale() is waiting for reports its failure there instead.
        if (expected || slot.replacing || (w.awaited && !w.ready.isCompleted)) return
        respawn(slot, w, reason)
    }

    private suspend fun respawn(slot: Slot, old: WorkerProcess, reason: ExitReason) {
        val now = System.nanoTime()
        val tooMany = synchronized(crashTimes) {
            crashTimes.addLast(now)
            while (crashTimes.isNotEmpty() && now - crashTimes.first() > config.restartWindow.toNanos()) crashTimes.removeFirst()
            crashTimes.size > config.maxRestarts
        }
        if (tooMany) {
            val e = ClusterException(
                "workers crashed more than ${config.maxRestarts} times within ${config.restartWindow.toSeconds()} s; last: worker ${old.id} $reason", reason,
            )
            log.error("stopping: {}", e.message)
            failure = e
            scope.launch { stop() }
            return
        }
        // The first crash of a slot is replaced at once; a slot that keeps crashing waits 100 ms,
        // 200 ms, … up to maxBackoff; a minute of uptime resets it.
        val uptime = TimeUnit.NANOSECONDS.toMillis(now - old.startedNanos)
        if (uptime >= STABLE_MILLIS) slot.crashes = 0
        val wait = if (slot.crashes == 0) 0L else (INITIAL_BACKOFF_MILLIS shl (slot.crashes - 1).coerceAtMost(20)).coerceAtMost(config.maxBackoff.toMillis())
        slot.crashes++
        if (wait > 0) delay(wait)
        if (phase != Phase.RUNNING || slot.worker !== old) return
        val w = try {
            spawn(slot, old.restarts + 1)
        } catch (e: Exception) {
            log.error("cannot respawn worker {}: {}", old.id, e.message)
            return
        }
        log.info("worker {} replaced crashed worker {} after {} ms", w.id, old.id, wait)
        eventFlow.tryEmit(ClusterEvent.WorkerRespawned(old, w, wait))
    }

    private suspend fun heartbeatLoop() {
        val interval = config.heartbeatInterval.toMillis()
        val timeout = config.heartbeatTimeout.toNanos()
        while (scope.isActive) {
            delay(interval)
            val now = System.nanoTime()
            for (w in live.values) {
                val conn = w.conn ?: continue
                if (w.unresponsive || !conn.isOpen) continue
                runCatching { conn.send(FrameType.PING) }
                if (now - w.lastPong > timeout) {
                    w.unresponsive = true
                    scope.launch { handleHang(w) }
                }
            }
        }
    }

    private suspend fun handleHang(w: WorkerProcess) {
        val silent = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.lastPong)
        w.detail = "unresponsive: no heartbeat answer for $silent ms"
        log.warn("worker {} (pid {}) has not answered heartbeats for {} ms; taking a thread dump", w.id, w.pid, silent)
        val dump = withContext(Dispatchers.IO) { ThreadDump.take(w.pid, config.javaCommand) }
        if (dump != null) log.warn("thread dump of worker {} (pid {}):\n{}", w.id, w.pid, dump)
        else log.warn("no thread dump of worker {} (pid {}): jcmd/jstack did not answer (process stopped or hung in native code)", w.id, w.pid)
        eventFlow.tryEmit(ClusterEvent.WorkerUnresponsive(w, dump))
        w.process.destroyForcibly()
    }

    /** STOP, then SIGTERM after the stop timeout, then SIGKILL. */
    private suspend fun stopWorker(w: WorkerProcess) {
        w.stopRequested = true
        if (w.state == WorkerState.STARTING || w.state == WorkerState.READY) w.state = WorkerState.DRAINING
        w.conn?.let { c -> runCatching { c.send(FrameType.STOP) } }
        if (withTimeoutOrNull(config.stopTimeout.toMillis()) { w.exit.await() } != null) return
        log.warn("worker {} (pid {}) did not stop within {} ms; sending SIGTERM", w.id, w.pid, config.stopTimeout.toMillis())
        w.process.destroy()
        if (withTimeoutOrNull(TERM_GRACE_MILLIS) { w.exit.await() } != null) return
        log.warn("worker {} (pid {}) ignored SIGTERM; sending SIGKILL", w.id, w.pid)
        w.process.destroyForcibly()
        w.exit.await()
    }

    override suspend fun stop() {
        withContext(NonCancellable) {
            val first = synchronized(this@RealClusterWatcher) {
                when (phase) {
                    Phase.NEW -> { phase = Phase.STOPPED; null }
                    Phase.RUNNING -> { phase = Phase.STOPPING; true }
                    else -> false
                }
            }
            if (first == null) { finish(); return@withContext }
            if (!first) { stopDone.await(); return@withContext }
            heartbeat?.cancel()
            live.values.toList().map { w -> scope.async { stopWorker(w) } }.awaitAll()
            hub.close()
            provider.close()
            runCatching { Runtime.getRuntime().removeShutdownHook(exitHook) }
            phase = Phase.STOPPED
            finish()
        }
    }

    private fun finish() {
        messageQueue.close()
        eventFlow.tryEmit(ClusterEvent.Stopped(failure))
        terminated.complete(failure)
        stopDone.complete(Unit)
        scope.cancel()
    }

    override suspend fun restart(): RestartResult = lifecycle.withLock {
        check(phase == Phase.RUNNING) { "cannot restart a watcher that is not running (it is ${phase.name.lowercase()})" }
        var replaced = 0
        for (slot in slots.toList()) {
            if (phase != Phase.RUNNING) break
            val old = slot.worker
            slot.replacing = true
            try {
                val fresh = spawn(slot, old.restarts + 1, install = false)
                val failed = awaitReady(fresh)
                if (failed != null) {
                    val reason = "replacement worker ${fresh.id} for worker ${old.id} failed: ${failed.second}"
                    log.error("rolling restart rolled back: {}", reason)
                    stopWorker(fresh)
                    return@withLock RestartResult(replaced, true, reason).also { eventFlow.tryEmit(ClusterEvent.RestartFinished(it)) }
                }
                slot.worker = fresh
                stopWorker(old)
                replaced++
            } finally {
                slot.replacing = false
            }
        }
        log.info("rolling restart replaced {} workers", replaced)
        RestartResult(replaced, false, null).also { eventFlow.tryEmit(ClusterEvent.RestartFinished(it)) }
    }

    override suspend fun scale(count: Int) {
        require(count >= 1) { "a cluster needs at least 1 worker, got $count" }
        lifecycle.withLock {
            check(phase == Phase.RUNNING) { "cannot scale a watcher that is not running" }
            if (count > slots.size) {
                val added = List(count - slots.size) { Slot().also(slots::add) }.map { spawn(it, 0).also { w -> w.awaited = true } }
                val failed = added.map { w -> scope.async { awaitReady(w) } }.awaitAll().firstOrNull { it != null }
                if (failed != null) throw ClusterException("worker ${failed.first.id} failed to start: ${failed.second}", failed.second as? ExitReason)
            } else {
                val removed = slots.takeLast(slots.size - count)
                slots.removeAll(removed.toSet())
                removed.map { s -> scope.async { stopWorker(s.worker) } }.awaitAll()
            }
            log.info("scaled to {} workers", count)
        }
    }

    override fun broadcast(message: Message): Int {
        val payload = message.toPayload()
        return workers.count { w -> runCatching { (w as WorkerProcess).conn?.send(FrameType.MESSAGE, payload) != null }.getOrDefault(false) }
    }

    override suspend fun awaitTermination(): Throwable? = terminated.await()

    override fun close() = runBlocking { stop() }

    private companion object {
        const val INITIAL_BACKOFF_MILLIS = 100L
        const val STABLE_MILLIS = 60_000L
        const val TERM_GRACE_MILLIS = 5_000L
    }
}
