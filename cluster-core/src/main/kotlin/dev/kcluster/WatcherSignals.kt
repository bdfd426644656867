package dev.kcluster

import dev.kcluster.internal.signals.PosixSignals
import dev.kcluster.internal.worker.WorkerMain
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.function.IntConsumer
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory
import sun.misc.Signal

/**
 * A watcher's POSIX signal handlers, with the nginx/Gunicorn meanings:
 *
 * | signal     | action                                                                                                             |
 * |------------|--------------------------------------------------------------------------------------------------------------------|
 * | TERM, INT  | graceful stop ([ClusterWatcher.stop]); a second TERM or INT SIGKILLs the workers and exits the JVM with 128+signal |
 * | HUP        | rolling restart ([ClusterWatcher.restart])                                                                         |
 * | USR1       | reopen the log file ([ClusterLog.reopen]), so logrotate's `postrotate kill -USR1` restarts nothing                 |
 * | TTIN, TTOU | one worker more, one fewer (never fewer than 1)                                                                    |
 * | USR2       | ignored with a warning (reserved)                                                                                  |
 *
 * QUIT stays the JVM's thread dump. HUP, USR1, TTIN and TTOU run one at a time, in arrival order, on a kcluster daemon thread; the stop
 * runs at once on its own thread, never queued behind a restart. Each action may be replaced through the [Builder]; an action that throws
 * is logged.
 *
 * The forced exit (second TERM/INT) SIGKILLs every worker JVM this process launched, then exits with 128+signal (130 for INT, 143 for
 * TERM). Shutdown hooks still run, bounded by a 5 s watchdog, and [Builder.beforeForcedExit] actions run among them, after the workers are
 * dead.
 *
 * ```kotlin
 * watcher.handleSignals().use { watcher.start(4); watcher.awaitTermination() }
 * ```
 * ```java
 * try (WatcherSignals signals = WatcherSignals.builder(javaWatcher.unwrap()).beforeForcedExit(pidFile::delete).install()) {
 *     javaWatcher.startBlocking(4);
 *     javaWatcher.awaitTerminationBlocking();
 * }
 * ```
 */
public class WatcherSignals private constructor(private val b: Builder) : AutoCloseable {
    private val watcher = b.watcher
    private val stops = AtomicInteger()
    private val restore = ArrayList<() -> Unit>()
    private val serial: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "kcluster-signals").apply { isDaemon = true } }

    /** True once a TERM or INT arrived. */
    public val isStopRequested: Boolean
        get() = stops.get() > 0

    /** Puts back the handlers that were installed before; an action already running finishes. Idempotent. */
    override fun close() {
        synchronized(restore) {
            restore.forEach { it() }
            restore.clear()
        }
        serial.shutdown()
    }

    private fun install(): WatcherSignals = apply {
        synchronized(restore) {
            fun on(name: String, action: (Signal) -> Unit) {
                PosixSignals.handle(name, action)?.let(restore::add)
            }
            on("TERM", ::stopSignal)
            on("INT", ::stopSignal)
            on("HUP") { serially("SIGHUP", b.reload ?: Runnable { reload() }) }
            on("USR1") { serially("SIGUSR1", b.reopenLog ?: Runnable { reopenLog() }) }
            on("TTIN") { serially("SIGTTIN") { scale(+1, "SIGTTIN") } }
            on("TTOU") { serially("SIGTTOU") { scale(-1, "SIGTTOU") } }
            on("USR2") { log.warn("SIGUSR2 ignored (it is reserved; USR1 reopens the log file, HUP reloads)") }
        }
    }

    private fun stopSignal(sig: Signal) {
        if (stops.incrementAndGet() > 1) return forceExit(sig)
        log.info("SIG{}: stopping gracefully (send it again to kill the workers at once)", sig.name)
        thread(isDaemon = true, name = "kcluster-signal-stop") {
            guarded("SIG${sig.name}", b.stop ?: Runnable { runBlocking { watcher.stop() } })
        }
    }

    private fun forceExit(sig: Signal) {
        val code = PosixSignals.EXIT_BASE + sig.number
        log.warn("second SIG{}: killing the workers now, then exiting with {}", sig.name, code)
        val kill =
            Thread(
                {
                    killWorkers()
                    b.forcedExit.forEach { guarded("forced exit", it) }
                },
                "kcluster-forced-exit",
            )
        // As a shutdown hook, so that the exit code is fixed now: a main thread that sees the watcher end and
        // exits meanwhile waits for this exit instead of replacing its code.
        val hooked = runCatching { Runtime.getRuntime().addShutdownHook(kill) }.isSuccess
        PosixSignals.exit(code)
        if (!hooked) kill.run() // the JVM was already exiting
    }

    /** SIGKILLs the watcher's workers and any worker JVM of this process not listed yet (still launching); waits briefly. */
    private fun killWorkers() {
        val listed = watcher.workers.mapNotNull { ProcessHandle.of(it.pid).orElse(null) }
        val launching =
            ProcessHandle.current()
                .children()
                .filter { p -> p.info().commandLine().orElse("").contains(WorkerMain::class.java.name) }
                .toList()
        val victims = (listed + launching).distinctBy { it.pid() }
        victims.forEach { it.destroyForcibly() }
        victims.forEach { runCatching { it.onExit().get(KILL_WAIT_MILLIS, TimeUnit.MILLISECONDS) } }
    }

    private fun serially(what: String, action: Runnable) {
        runCatching { serial.execute { guarded(what, action) } }.onFailure { log.warn("{} ignored: the signal handlers are closed", what) }
    }

    private fun guarded(what: String, action: Runnable) {
        try {
            action.run()
        } catch (e: Exception) {
            log.error("{}: {}", what, e.message ?: e.toString())
        }
    }

    private fun reload() {
        log.info("SIGHUP: rolling restart")
        val r = runBlocking { watcher.restart() }
        if (r.rolledBack) log.error("SIGHUP: rolling restart rolled back: {}", r.reason)
        else log.info("SIGHUP: rolling restart done, {} replaced", workers(r.replaced))
    }

    private fun reopenLog() {
        val reopen = dev.kcluster.internal.log.LogOutput.reopener
        if (reopen == null) {
            log.info("SIGUSR1: the logging backend is not cluster-logging; reopen its files through its own configuration")
            return
        }
        reopen()
        log.info("SIGUSR1: log file reopened")
    }

    private fun scale(delta: Int, what: String) {
        b.scale?.let {
            return it.accept(delta)
        }
        val current = watcher.workers.size
        val n = current + delta
        if (n < 1) return log.warn("{}: the cluster keeps at least 1 worker", what)
        log.info("{}: scaling from {} to {} workers", what, current, n)
        runBlocking { watcher.scale(n) }
        log.info("{}: scaled to {}", what, workers(n))
    }

    /** Chooses the actions, then [install]s the handlers. Every setter returns the builder. */
    public class Builder internal constructor(internal val watcher: ClusterWatcher) {
        internal var stop: Runnable? = null
        internal var reload: Runnable? = null
        internal var reopenLog: Runnable? = null
        internal var scale: IntConsumer? = null
        internal val forcedExit = ArrayList<Runnable>()

        /** Replaces the first TERM/INT's action, [ClusterWatcher.stop] (blocking). It runs on its own thread. */
        public fun onStop(action: Runnable): Builder = apply { stop = action }

        /** Replaces HUP's action, a logged [ClusterWatcher.restart] (blocking). */
        public fun onReload(action: Runnable): Builder = apply { reload = action }

        /** Replaces USR1's action, [ClusterLog.reopen] (for another logging backend, reopen its file here). */
        public fun onReopenLog(action: Runnable): Builder = apply { reopenLog = action }

        /**
         * Replaces TTIN's and TTOU's action, which scales to one worker more (+1) or fewer (-1) and refuses to go below 1. [action] gets
         * the delta and must keep at least one worker itself.
         */
        public fun onScale(action: IntConsumer): Builder = apply { scale = action }

        /** Adds an action run during a forced exit, after the workers were killed (e.g. deleting a pid file). */
        public fun beforeForcedExit(action: Runnable): Builder = apply { forcedExit += action }

        /** Installs the handlers, replacing the JVM's or earlier ones for these signals until [WatcherSignals.close]. */
        public fun install(): WatcherSignals = WatcherSignals(this).install()
    }

    public companion object {
        private val log = LoggerFactory.getLogger("dev.kcluster.signals")
        private const val KILL_WAIT_MILLIS = 2_000L

        /** A builder of signal handlers for [watcher] (from Java, `JavaClusterWatcher.unwrap()`). */
        @JvmStatic public fun builder(watcher: ClusterWatcher): Builder = Builder(watcher)

        /** Installs the default handlers for [watcher]. */
        @JvmStatic public fun install(watcher: ClusterWatcher): WatcherSignals = Builder(watcher).install()

        private fun workers(n: Int) = if (n == 1) "1 worker" else "$n workers"
    }
}

/** Installs [WatcherSignals] for this watcher; [configure] may replace actions. Close the result to put the previous handlers back. */
public fun ClusterWatcher.handleSignals(configure: WatcherSignals.Builder.() -> Unit = {}): WatcherSignals =
    WatcherSignals.builder(this).apply(configure).install()
