package dev.kcluster.internal.supervisor

import dev.kcluster.ClusterException
import dev.kcluster.ServerSocketPipeProvider
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import dev.kcluster.internal.balance.Balancer
import dev.kcluster.internal.ipc.Handshake
import dev.kcluster.internal.ipc.IpcHub
import dev.kcluster.internal.launch.Launcher
import dev.kcluster.internal.log.LogRecord
import dev.kcluster.internal.log.Relay
import dev.kcluster.internal.messages.MessageHub
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.future.await
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.event.Level

/**
 * Launches worker processes and sees each one through to its exit: the one-time key on stdin, the stdout/stderr relay, the IPC connection
 * and its frames, and finally the exit: [onEnded] hears of it at once (the watcher may replace a crashed worker then), [onExit] only after
 * every frame the worker sent before dying has been dispatched.
 */
internal class Spawner(
    private val config: WatcherConfig,
    private val hub: IpcHub,
    private val launcher: Launcher,
    private val provider: ServerSocketPipeProvider,
    private val messages: MessageHub<WorkerMessage>,
    private val scope: CoroutineScope,
    private val clusterSize: () -> Int,
    private val onChange: (RealWorker, Life, Life) -> Unit,
    private val onLaunched: (RealWorker) -> Unit,
    private val onEnded: (RealWorker) -> Unit,
    private val onExit: suspend (RealWorker, Life.Exited) -> Unit,
    private val ops: WorkerOps,
    private val balancer: Balancer? = null,
) {
    /** Where METRICS frames go; set by the watcher before the first spawn when metrics are on. */
    @Volatile var metrics: dev.kcluster.internal.metrics.WatcherMetrics? = null

    private val nextId = AtomicInteger()

    /** Launches a worker for [slot] (null: a standby); it does not take the slot (the caller decides). */
    fun launch(slot: Slot?, restarts: Int, origin: Origin): RealWorker {
        val id = nextId.incrementAndGet()
        val key = Handshake.newKey()
        val expected = hub.expect(id, key)
        val process =
            try {
                launcher.start(id, hub.socketPath, clusterSize(), standby = origin == Origin.STANDBY)
            } catch (e: Exception) {
                expected.cancel(e)
                throw ClusterException("cannot launch a worker with ${config.javaCommand}: ${e.message}", cause = e)
            }
        expected.pid.complete(process.pid())
        val w = RealWorker(id, slot, restarts, process, origin, onChange, ops)
        runCatching { process.outputStream.use { it.write((Handshake.toHex(key) + "\n").toByteArray()) } }
        Relay.lines(process.inputStream, "worker $id stdout") { line -> Relay.emit(line(Level.INFO, "stdout", line), id) }
        Relay.lines(process.errorStream, "worker $id stderr") { line ->
            w.stderrLine(line)
            Relay.emit(line(Level.WARN, "stderr", line), id)
        }
        process.onExit().thenRun { expected.cancel(IllegalStateException("worker $id exited before connecting")) }
        onLaunched(w)
        scope.launch { follow(w, expected) }
        return w
    }

    private fun line(level: Level, logger: String, text: String) =
        LogRecord(System.currentTimeMillis(), level.toInt(), logger, "", text, null, emptyMap())

    private suspend fun follow(w: RealWorker, expected: IpcHub.Expected) {
        val conn = withTimeoutOrNull(config.startTimeout.toMillis()) { runCatching { expected.connection.await() }.getOrNull() }
        if (conn == null) {
            if (w.process.isAlive) {
                w.reported = "did not connect to the watcher within ${config.startTimeout.toMillis()} ms"
                expected.cancel(IllegalStateException("timeout"))
                w.process.destroyForcibly()
            }
        } else {
            w.conn = conn
            w.lastPong = System.nanoTime()
            if (balancer != null) balancer.serve(w, conn) else provider.serve(conn)
            if (w.origin == Origin.STANDBY) w.holdListens(conn)
            FrameRouting.route(w, conn, messages, metrics)
            conn.start()
            // A stop requested before the connection existed is delivered now.
            if (w.life is Life.Draining) runCatching { conn.send(dev.kcluster.internal.ipc.FrameType.STOP) }
        }
        val code = w.process.onExit().await().exitValue()
        w.transition(LifeEvent.ProcessGone)
        onEnded(w)
        // Every frame the worker sent before dying is dispatched before its exit is reported.
        w.conn?.let { c ->
            withTimeoutOrNull(2_000) { c.closed.await() }
            c.close()
        }
        val exited = w.transition(LifeEvent.ProcessEnded(code, w.reported, w.stderrTail())) as Life.Exited
        try {
            onExit(w, exited)
        } finally {
            // Only now: whoever waits for this exit (a stop, a restart) sees its WorkerExited event first.
            w.exit.complete(exited.reason)
        }
    }
}
