@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.cli

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.InternalKclusterApi
import dev.kcluster.RestartResult
import dev.kcluster.SocketMode
import dev.kcluster.WatcherSignals
import dev.kcluster.cli.systemd.NotifySocket
import dev.kcluster.cli.systemd.SystemdNotifier
import dev.kcluster.handleSignals
import dev.kcluster.internal.group.setHostRestart
import dev.kcluster.internal.launch.updateWorkerSettings
import dev.kcluster.logging.ClusterLog
import java.io.PrintStream
import java.time.Duration
import java.time.Instant
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import org.slf4j.LoggerFactory

/**
 * Runs one cluster for `cluster [OPTIONS] TARGET`: logging, pid file, control socket, signals, `--watch`, then waits until the watcher
 * stops. [run] returns the process exit code.
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

    /** Every live worker and standby by id (from [ClusterWatcher.events]: standbys are in no other list). */
    private val known = ConcurrentHashMap<Int, ClusterWorker>()

    /** The last exit reason per slot (0: standbys), for `status`. */
    private val lastExit = ConcurrentHashMap<Int, String>()

    /** The options in force: a reload of the config file changes their worker-level settings. */
    @Volatile private var current: RunOptions = options

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
            // A group restart (`reload --all-hosts`, from this host or another) runs this host's own reload, config file included.
            watcher.setHostRestart { reload("group restart") }
            follow(watcher)
            notifier =
                NotifySocket.fromEnvironment()?.let {
                    SystemdNotifier(watcher, it, SystemdNotifier.watchdogMicros()).apply { start(scope) }
                }
            installSignals()
            if (pid != null) {
                control =
                    try {
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
        val files =
            if (options.watch.isNotEmpty() && !stopping()) {
                val ignore =
                    listOfNotNull(options.logFile, pidFile?.path, pidFile?.socketPath).map { it.toAbsolutePath().normalize() }.toSet()
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
     * kcluster's signal handling ([WatcherSignals]); reload and scale take [ops] like control requests do, and a forced exit (second
     * TERM/INT) also removes the pid file and the control socket.
     */
    private fun installSignals() {
        signals =
            watcher.handleSignals {
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

    /** Keeps [known] and [lastExit] from the watcher's events, subscribed before anything starts. */
    private fun follow(w: ClusterWatcher) {
        scope.launch(start = CoroutineStart.UNDISPATCHED) {
            w.events.collect { e ->
                when (e) {
                    is ClusterEvent.WorkerStarted -> known[e.worker.id] = e.worker
                    is ClusterEvent.WorkerExited -> {
                        known.remove(e.worker.id)
                        lastExit[e.worker.slot] = e.reason.toString().take(MAX_EXIT_TEXT)
                    }
                    else -> Unit
                }
            }
        }
    }

    /** True once a stop was asked for, by a signal or over the control socket. */
    private fun stopping() = stopRequests.get() > 0 || signals?.isStopRequested == true

    private fun handle(request: ControlRequest): Reply =
        when (request.command) {
            "status" -> {
                val hosts = if (request.allHosts == true) hosts() else null
                Reply(ControlResponse(ok = true, watcherPid = me, status = status(), hosts = hosts))
            }
            "top" -> Reply(ControlResponse(ok = true, watcherPid = me, status = status(withCpu = true)))
            "reload" -> if (request.allHosts == true) reloadAllHosts() else reloadHere()
            "stop" ->
                Reply(ControlResponse(ok = true, watcherPid = me)) {
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
            "restart-worker" ->
                worker(request) { w ->
                    val slot = w.slot
                    val r = runBlocking {
                        ops.withLock {
                            log.info("control request: restarting worker {} (pid {})", w.id, w.pid)
                            w.restart()
                        }
                    }
                    if (r.rolledBack) {
                        log.error("control request: restart of worker {} rolled back: {}", w.id, r.reason)
                        Reply(ControlResponse(ok = false, error = r.reason, replaced = r.replaced, rolledBack = true))
                    } else {
                        val successor = watcher.workers.firstOrNull { it.slot == slot }
                        val detail =
                            "worker ${w.id} replaced by " + (successor?.let { "worker ${it.id} (pid ${it.pid})" } ?: "a new worker")
                        log.info("control request: {}", detail)
                        Reply(ControlResponse(ok = true, replaced = r.replaced, rolledBack = false, detail = detail, status = status()))
                    }
                }
            "kill-worker" ->
                worker(request) { w ->
                    log.info("control request: killing worker {} (pid {})", w.id, w.pid)
                    w.kill()
                    Reply(ControlResponse(ok = true, detail = "worker ${w.id} (pid ${w.pid}) killed with SIGKILL; the watcher respawns it"))
                }
            else ->
                throw IllegalArgumentException(
                    "unknown command '${request.command}' (status, top, reload, stop, scale, restart-worker, kill-worker)"
                )
        }

    private fun reloadHere(): Reply {
        val r = runBlocking { reload("control request") }
        return Reply(ControlResponse(ok = !r.rolledBack, error = r.reason, replaced = r.replaced, rolledBack = r.rolledBack))
    }

    /** `reload --all-hosts`: every host of the group, one at a time ([ClusterWatcher.restartAllHosts]); each runs its own [reload]. */
    private fun reloadAllHosts(): Reply {
        requireGroup()
        log.info("control request: reloading every host of group {}, one at a time", options.group)
        val all = runBlocking { watcher.restartAllHosts() }
        val restarts = all.map { HostRestartStatus(it.member, it.outcome.name, it.replaced, it.reason) }
        val failed = all.firstOrNull { it.outcome == dev.kcluster.HostRestart.Outcome.ROLLED_BACK }
        return Reply(ControlResponse(ok = failed == null, error = failed?.reason, rolledBack = failed != null, restarts = restarts))
    }

    private fun requireGroup() {
        if (options.config.group == null) throw IllegalArgumentException("this cluster runs without --zookeeper: there are no other hosts")
    }

    /** The members of the group (`status --all-hosts`). */
    private fun hosts(): List<HostStatus> {
        requireGroup()
        return watcher.hosts.value.map { h ->
            HostStatus(
                id = h.id,
                host = h.host,
                watcherPid = h.pid,
                phase = h.phase,
                workers = h.workers.size,
                ready = h.workers.count { it.state == "READY" },
                addresses = h.addresses,
                startedAtMillis = h.startedAtMillis,
                leaderWorker = h.leaderWorker,
                leaderEpoch = h.leaderEpoch,
            )
        }
    }

    /** Runs [action] on the live worker or standby [request] names; an unknown id is an answer listing the ids there are. */
    private fun worker(request: ControlRequest, action: (ClusterWorker) -> Reply): Reply {
        val id = request.worker ?: throw IllegalArgumentException("${request.command} needs \"worker\"")
        val all = (watcher.workers + known.values).distinctBy { it.id }.filter { it.state.name != "STOPPED" && it.state.name != "CRASHED" }
        val w =
            all.firstOrNull { it.id == id }
                ?: return Reply(
                    ControlResponse(
                        ok = false,
                        error = "no worker with id $id (workers: ${all.map { it.id }.sorted().joinToString(", ").ifEmpty { "none" }})",
                    )
                )
        return action(w)
    }

    private fun status(withCpu: Boolean = false): ClusterStatus {
        val now = Instant.now()
        val handles = (known.values + watcher.workers).associateBy { it.id }
        return ClusterStatus(
            watcherPid = me,
            target = options.target,
            socketMode =
                if (options.config.socketMode == SocketMode.REUSE_PORT) "reuseport" else options.config.socketMode.name.lowercase(),
            listening = watcher.listeningAddresses.map { "${it.hostString}:${it.port}" },
            droppedMessages = watcher.droppedMessages,
            workers =
                watcher.state.value.workers.map { w ->
                    val load = handles[w.id]?.load
                    WorkerStatus(
                        slot = w.slot,
                        id = w.id,
                        pid = w.pid,
                        state = w.state.name,
                        uptimeMillis = Duration.between(w.startedAt, now).toMillis().coerceAtLeast(0),
                        restarts = w.restarts,
                        lastExit = lastExit[w.slot],
                        rssBytes = load?.rssBytes?.takeIf { it > 0 } ?: StatusTable.rssBytes(w.pid),
                        heapBytes = load?.heapUsedAfterGc,
                        connections = load?.openConnections,
                        requests = load?.requests,
                        cpuTicks = if (withCpu) TopScreen.cpuTicks(w.pid) else null,
                    )
                },
        )
    }

    private suspend fun reload(source: String): RestartResult =
        ops.withLock {
            rereadConfig(source)?.let {
                return@withLock it
            }
            log.info("{}: rolling restart", source)
            watcher.restart().also { r ->
                if (r.rolledBack) log.error("{}: rolling restart rolled back: {}", source, r.reason)
                else log.info("{}: rolling restart done, {} replaced", source, workers(r.replaced))
            }
        }

    /**
     * With `--config`: rereads the file (flags still override it). New worker-level settings (args, jvm-options, env) go to the workers the
     * rolling restart starts; other changed settings are named as needing a full restart. Returns a rolled-back result, restarting nothing,
     * when the file is now unusable; null to go on.
     */
    private fun rereadConfig(source: String): RestartResult? {
        val reread = options.reread ?: return null
        val file = options.configFile
        val fresh =
            try {
                reread()
            } catch (e: Exception) {
                val why = "cannot reread $file: ${e.message ?: e}; nothing was restarted"
                log.error("{}: {}", source, why)
                return RestartResult(0, true, why)
            }
        val now = current
        val changed = ReloadChanges.workerLevel(now, fresh)
        if (changed.isNotEmpty()) {
            log.info("{}: {} changed {}; the new workers get them", source, file, changed.joinToString(", "))
            watcher.updateWorkerSettings(fresh.config.args, fresh.config.jvmOptions, fresh.config.environment)
            current = now.copy(config = fresh.config).also { it.reread = now.reread }
        }
        val needRestart = ReloadChanges.needFullRestart(options, fresh)
        if (needRestart.isNotEmpty()) {
            log.warn(
                "{}: {} changed {}, which take effect only when the cluster is stopped and started again",
                source,
                file,
                needRestart.joinToString(", "),
            )
        }
        return null
    }

    private suspend fun scaleBy(delta: Int, source: String) =
        ops.withLock {
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
        const val MAX_EXIT_TEXT = 2_000
    }
}
