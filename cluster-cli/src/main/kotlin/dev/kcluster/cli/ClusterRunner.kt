package dev.kcluster.cli

import dev.kcluster.ClusterLog
import dev.kcluster.ClusterWatcher
import dev.kcluster.RestartResult
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
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
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
    /** The exit code of a forced stop (second signal); 0 while there is none. It wins over any other outcome. */
    private val forcedExit = AtomicInteger()
    private val me = ProcessHandle.current().pid()
    private lateinit var watcher: ClusterWatcher
    @Volatile private var pidFile: PidFile? = null
    @Volatile private var control: ControlServer? = null
    @Volatile private var group: GroupHandle? = null

    fun run(): Int {
        try {
            ClusterLog.setLevel(options.logLevel)
            ClusterLog.setJson(options.logJson)
            options.logFile?.let { ClusterLog.setFile(it.toString()) }
        } catch (e: Exception) {
            return fail("cannot open log file ${options.logFile}: ${e.message ?: e}")
        }
        val config = options.toWatcherConfig()
        val pid = options.pidFile?.let(::PidFile)
        try {
            pid?.acquire { log.warn(it) }
        } catch (e: PidFileException) {
            return fail(e.message ?: e.toString())
        }
        pidFile = pid
        try {
            watcher = ClusterWatcher(config)
            installSignals()
            if (pid != null) {
                control = try {
                    ControlServer(pid.socketPath, handler = ::handle)
                } catch (e: Exception) {
                    return fail("cannot open the control socket ${pid.socketPath}: ${e.message ?: e}")
                }
            }
            val code = supervise()
            return forcedExit.get().takeIf { it != 0 } ?: code
        } finally {
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
            if (stopRequests.get() == 0) {
                runBlocking { watcher.stop() }
                return fail("cannot start ${options.target}: ${e.message ?: e}")
            }
        }
        if (stopRequests.get() == 0) {
            log.info("cluster ready: {} of {} (watcher pid {})", workers(options.workers), options.target, me)
        }
        if (options.zookeeper != null && stopRequests.get() == 0) {
            try {
                group = ZooKeeperJoin.join(watcher, options)
            } catch (e: Exception) {
                runBlocking { watcher.stop() }
                return fail("cannot join group ${options.group}: ${e.message ?: e}")
            }
        }
        val files = if (options.watch.isNotEmpty() && stopRequests.get() == 0) {
            val ignore = listOfNotNull(options.logFile, pidFile?.path, pidFile?.socketPath).map { it.toAbsolutePath().normalize() }.toSet()
            FileWatcher(options.watch, ignore, DEBOUNCE_MILLIS, scope) { path -> runCatching { reload("change in $path") } }
        } else {
            null
        }
        try {
            val failure = runBlocking { watcher.awaitTermination() }
            if (failure != null && stopRequests.get() == 0) return fail("stopped: ${failure.message ?: failure}")
            log.info("cluster stopped")
            return 0
        } finally {
            files?.close()
            group?.close()
        }
    }

    private fun installSignals() {
        Signals.handle("TERM") { onStopSignal("TERM", SIGTERM) }
        Signals.handle("INT") { onStopSignal("INT", SIGINT) }
        Signals.handle("HUP") { launchOp { reload("SIGHUP") } }
        Signals.handle("USR1") { launchOp { reload("SIGUSR1") } }
        Signals.handle("TTIN") { launchOp { scaleBy(1, "SIGTTIN") } }
        Signals.handle("TTOU") { launchOp { scaleBy(-1, "SIGTTOU") } }
        Signals.handle("USR2") {
            ClusterLog.reopen()
            log.info("SIGUSR2: log file reopened")
        }
    }

    private fun launchOp(op: suspend () -> Unit) {
        scope.launch {
            try {
                op()
            } catch (e: Exception) {
                log.error("{}", e.message ?: e.toString())
            }
        }
    }

    private fun onStopSignal(name: String, number: Int) {
        if (stopRequests.incrementAndGet() == 1) {
            log.info("SIG{}: stopping gracefully (send it again to kill the workers at once)", name)
            scope.launch { watcher.stop() }
        } else {
            forceExit("second SIG$name", EXIT_SIGNAL_BASE + number)
        }
    }

    /**
     * Kills every descendant (the workers first of all) with SIGKILL, cleans up, and exits. Shutdown hooks
     * run (kcluster's removes the IPC directory), but a hook that hangs cannot hold the exit up past 2 s.
     */
    private fun forceExit(why: String, code: Int) {
        // Set first: killing the workers ends the graceful stop, and the main thread must not exit 0 meanwhile.
        forcedExit.set(code)
        err.println("cluster: $why: killing the workers now")
        log.warn("{}: killing the workers now", why)
        val children = ProcessHandle.current().descendants().toList()
        children.forEach { it.destroyForcibly() }
        children.forEach { runCatching { it.onExit().get(FORCE_WAIT_SECONDS, TimeUnit.SECONDS) } }
        control?.close()
        pidFile?.release()
        Thread({ Thread.sleep(2_000); Runtime.getRuntime().halt(code) }, "cluster-force-halt").apply { isDaemon = true; start() }
        exitProcess(code)
    }

    private fun handle(request: ControlRequest): Reply = when (request.command) {
        "status" -> {
            val hosts = if (request.allHosts == true) {
                (group ?: throw IllegalArgumentException("this cluster runs without --zookeeper: there are no other hosts")).hosts()
            } else {
                null
            }
            Reply(ControlResponse(ok = true, watcherPid = me, status = status(), hosts = hosts))
        }
        "reload" -> {
            val r = runBlocking { reload("control request") }
            Reply(ControlResponse(ok = !r.rolledBack, error = r.reason, replaced = r.replaced, rolledBack = r.rolledBack))
        }
        "stop" -> Reply(ControlResponse(ok = true, watcherPid = me)) {
            if (stopRequests.incrementAndGet() == 1) {
                log.info("stop requested over the control socket")
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
        else -> throw IllegalArgumentException("unknown command '${request.command}' (status, reload, stop, scale)")
    }

    private fun status(): ClusterStatus = ClusterStatus(
        watcherPid = me,
        target = options.target,
        workers = watcher.workers.map { w ->
            WorkerStatus(
                id = w.id, pid = w.pid, state = w.state.name,
                uptimeMillis = Duration.between(w.startedAt, Instant.now()).toMillis().coerceAtLeast(0),
                restarts = w.restarts, rssBytes = StatusTable.rssBytes(w.pid),
            )
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
        const val SIGINT = 2
        const val SIGTERM = 15
        const val EXIT_SIGNAL_BASE = 128
        const val FORCE_WAIT_SECONDS = 5L
    }
}
