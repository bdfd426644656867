@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.cli

import dev.kcluster.InternalKclusterApi
import dev.kcluster.logging.ClusterLog
import dev.kcluster.ClusterWatcher
import dev.kcluster.RestartResult
import dev.kcluster.WatcherSignals
import dev.kcluster.handleSignals
import dev.kcluster.cli.systemd.NotifySocket
import dev.kcluster.cli.systemd.SystemdNotifier
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import org.slf4j.LoggerFactory
import java.io.PrintStream
import java.time.Duration
import java.time.Instant
import java.util.concurrent.atomic.AtomicInteger

/**
 * Runs one cluster for `cluster [OPTIONS] TARGET`: logging, pid file, control socket, signals,
 * `--watch`, then waits until the watcher stops. [run] returns the process exit code.
 */
internal class ClusterRunner(private val options: RunOptions, private val err: PrintStream = System.err) {
    private val log = LoggerFactory.getLogger("dev.kcluster.cli")
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("cluster-cli"))
    private val ops = Mutex()
    private val stopRequests = AtomicInteger()
    private val me = ProcessHandle.current().pid()
    private lateinit var watcher: ClusterWatcher
    @Volatile private var pidFile: PidFile? = null
    @Volatile private var control: ControlServer? = null
    @Volatile private var signals: WatcherSignals? = null
    @Volatile private var notifier: SystemdNotifier? = null

    fun run(): Int {
        try {
            ClusterLog.setLevel(options.logLevel)
            ClusterLog.setJson(options.logJson)
            options.logFile?.let { ClusterLog.setFile(it.toString()) }
        } catch (e: Exception) {
            return fail("cannot open log file ${options.logFile}: ${e.message ?: e}")
        }
        val config = options.config
        val pid = options.pidFile?.let(::PidFile)
        try {
            pid?.acquire { log.warn(it) }
        } catch (e: PidFileException) {
            return fail(e.message ?: e.toString())
        }
        pidFile = pid
        try {
            watcher = ClusterWatcher(config)
            notifier = NotifySocket.fromEnvironment()?.let { SystemdNotifier(watcher, it, SystemdNotifier.watchdogMicros()).apply { start(scope) } }
            installSignals()
            if (pid != null) {
                control = try {
                    ControlServer(pid.socketPath, handler = ::handle)
                } catch (e: Exception) {
                    return fail("cannot open the control socket ${pid.socketPath}: ${e.message ?: e}")
                }
            }
            return supervise()
        } finally {
            signals?.close()
            control?.close()
            pid?.release()
            scope.cancel()
        }
    }

    private fun supervise(): Int {
        log.info("starting {} of {}", workers(options.workers), options.target)
        try {
            runBlocking { watcher.start(options.workers) }
        } catch (e: Exception) {
            if (!stopping()) {
                runBlocking { watcher.stop() }
                return fail("cannot start ${options.target}: ${e.message ?: e}")
            }
        }
        if (!stopping()) {
            log.info("cluster ready: {} of {} (watcher pid {})", workers(options.workers), options.target, me)
        }
        val files = if (options.watch.isNotEmpty() && !stopping()) {
            val ignore = listOfNotNull(options.logFile, pidFile?.path, pidFile?.socketPath).map { it.toAbsolutePath().normalize() }.toSet()
            FileWatcher(options.watch, ignore, DEBOUNCE_MILLIS, scope) { path -> runCatching { reload("change in $path") } }
        } else {
            null
        }
        try {
            val failure = runBlocking { watcher.awaitTermination() }
            if (failure != null && !stopping()) return fail("stopped: ${failure.message ?: failure}")
            log.info("cluster stopped")
            return 0
        } finally {
            files?.close()
        }
    }

    /**
     * kcluster's signal handling ([WatcherSignals]); reload and scale take [ops] like control requests do,
     * and a forced exit (second TERM/INT) also removes the pid file and the control socket.
     */
    private fun installSignals() {
        signals = watcher.handleSignals {
            onStop {
                stopRequests.incrementAndGet()
                notifier?.stopping()
                runBlocking { watcher.stop() }
            }
            onReload { runBlocking { reload("SIGHUP") } }
            onScale { delta -> runBlocking { scaleBy(delta, if (delta > 0) "SIGTTIN" else "SIGTTOU") } }
            beforeForcedExit {
                err.println("cluster: second stop signal: workers killed")
                control?.close()
                pidFile?.release()
            }
        }
    }

    /** True once a stop was asked for, by a signal or over the control socket. */
    private fun stopping() = stopRequests.get() > 0 || signals?.isStopRequested == true

    private fun handle(request: ControlRequest): Reply = when (request.command) {
        "status" -> Reply(ControlResponse(ok = true, watcherPid = me, status = status()))
        "top" -> Reply(ControlResponse(ok = true, watcherPid = me, status = status(load = true)))
        "reload" -> {
            val r = runBlocking { reload("control request") }
            Reply(ControlResponse(ok = !r.rolledBack, error = r.reason, replaced = r.replaced, rolledBack = r.rolledBack))
        }
        "stop" -> Reply(ControlResponse(ok = true, watcherPid = me)) {
            if (stopRequests.incrementAndGet() == 1) {
                log.info("stop requested over the control socket")
                notifier?.stopping()
                scope.launch { watcher.stop() }
            }
        }
        "scale" -> {
            val n = request.workers ?: throw IllegalArgumentException("scale needs \"workers\"")
            require(n >= 1) { "a cluster needs at least 1 worker, got $n" }
            runBlocking {
                ops.withLock {
                    log.info("control request: scaling from {} to {} workers", watcher.workers.size, n)
                    watcher.scale(n)
                    log.info("control request: scaled to {}", workers(n))
                }
            }
            Reply(ControlResponse(ok = true, watcherPid = me, status = status()))
        }
        else -> throw IllegalArgumentException("unknown command '${request.command}' (status, top, reload, stop, scale)")
    }

    private fun status(load: Boolean = false): ClusterStatus = ClusterStatus(
        watcherPid = me,
        target = options.target,
        workers = watcher.workers.map { w ->
            WorkerStatus(
                id = w.id, pid = w.pid, state = w.state.name,
                uptimeMillis = Duration.between(w.startedAt, Instant.now()).toMillis().coerceAtLeast(0),
                restarts = w.restarts, rssBytes = StatusTable.rssBytes(w.pid),
            ).let { s ->
                if (!load) s
                else w.load.let { l ->
                    s.copy(slot = w.slot, heapBytes = l.heapUsedAfterGc, openConnections = l.openConnections, requests = l.requests, cpuTicks = TopScreen.cpuTicks(w.pid))
                }
            }
        },
    )

    private suspend fun reload(source: String): RestartResult = ops.withLock {
        log.info("{}: rolling restart", source)
        watcher.restart().also { r ->
            if (r.rolledBack) log.error("{}: rolling restart rolled back: {}", source, r.reason)
            else log.info("{}: rolling restart done, {} replaced", source, workers(r.replaced))
        }
    }

    private suspend fun scaleBy(delta: Int, source: String) = ops.withLock {
        val current = watcher.workers.size
        val n = current + delta
        if (n < 1) {
            log.warn("{}: the cluster keeps at least 1 worker", source)
        } else {
            log.info("{}: scaling from {} to {} workers", source, current, n)
            watcher.scale(n)
            log.info("{}: scaled to {}", source, workers(n))
        }
    }

    private fun workers(n: Int) = if (n == 1) "1 worker" else "$n workers"

    private fun fail(message: String): Int {
        if (options.logFile != null) log.error(message)
        err.println("cluster: $message")
        return 1
    }

    private companion object {
        const val DEBOUNCE_MILLIS = 500L
    }
}
