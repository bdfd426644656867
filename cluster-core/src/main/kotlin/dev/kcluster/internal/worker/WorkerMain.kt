package dev.kcluster.internal.worker

import dev.kcluster.ReadyPolicy
import dev.kcluster.internal.ipc.DEFAULT_MAX_FRAME
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.Handshake
import dev.kcluster.internal.ipc.IpcHub
import dev.kcluster.internal.log.LogForwarding
import dev.kcluster.internal.log.LogOutput
import java.io.PrintWriter
import java.io.StringWriter
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Modifier
import java.nio.file.Paths
import kotlin.system.exitProcess

/**
 * The entry point of every worker JVM: `WorkerMain <userMainClass> [args…]`. It reads its one-time key from stdin, proves itself to the
 * watcher, installs log forwarding and the orphan guard (exit when the watcher's connection ends), then calls the user's `main`. Meanwhile
 * a background thread runs the classpath's [WorkerPreload]s, which `main` waits for.
 */
internal object WorkerMain {
    const val EXIT_FAILURE = 1
    const val EXIT_USAGE = 2
    const val EXIT_ORPHANED = 3
    const val DEFAULT_ORPHAN_GRACE_MILLIS = 50L
    private const val BYE_WAIT_MILLIS = 500L

    @JvmStatic
    fun main(args: Array<String>) {
        val socket = System.getenv(WorkerRuntime.ENV_SOCKET)
        val id = System.getenv(WorkerRuntime.ENV_ID)?.toIntOrNull()
        if (socket == null || id == null || args.isEmpty()) {
            System.err.println(
                "dev.kcluster.internal.worker.WorkerMain is started by a kcluster watcher; to run your program standalone, run its main class directly."
            )
            exitProcess(EXIT_USAGE)
        }
        // Modules' preloads (Netty's static state) run while this thread connects; main waits for them below.
        val preloads = WorkerPreloads.start()
        val key =
            try {
                Handshake.fromHex(System.`in`.bufferedReader().readLine() ?: "")
            } catch (e: Exception) {
                System.err.println("kcluster worker $id: no valid key on stdin: ${e.message}")
                exitProcess(EXIT_USAGE)
            }
        val maxFrame = System.getenv(WorkerRuntime.ENV_MAX_FRAME)?.toIntOrNull() ?: DEFAULT_MAX_FRAME
        val conn =
            try {
                IpcHub.connect(Paths.get(socket), id, key, maxFrame = maxFrame)
            } catch (e: Exception) {
                System.err.println("kcluster worker $id: cannot connect to the watcher: ${e.message}")
                exitProcess(EXIT_FAILURE)
            }
        val policy =
            runCatching { ReadyPolicy.valueOf(System.getenv(WorkerRuntime.ENV_READY) ?: "LISTEN") }.getOrDefault(ReadyPolicy.LISTEN)
        val size = System.getenv(WorkerRuntime.ENV_WORKERS)?.toIntOrNull()?.coerceAtLeast(1) ?: 1
        val runtime =
            WorkerRuntime(
                id,
                conn,
                policy,
                size,
                System.getenv(WorkerRuntime.ENV_SOCKET_MODE) == "reuseport",
                standby = System.getenv(WorkerRuntime.ENV_STANDBY) == "1",
            )
        WorkerRuntime.current = runtime
        LogOutput.source = "worker $id"
        LogForwarding.sender = runtime::forwardLog
        val grace = System.getenv(WorkerRuntime.ENV_ORPHAN_GRACE)?.toLongOrNull()?.coerceAtLeast(0) ?: DEFAULT_ORPHAN_GRACE_MILLIS
        val orphan = OrphanExit(grace)
        // A program that calls System.exit itself still gets its last messages and logs out; when the
        // watcher is gone, the same hook bounds the other hooks' time (see OrphanExit).
        Runtime.getRuntime()
            .addShutdownHook(
                Thread(
                    {
                        runCatching { conn.flush() }
                        orphan.gate()
                        // Stopped by the watcher: say BYE; after the watcher's BYE it sends nothing more, and the reader thread
                        // ends, so that it is not blocked in native code, which the JVM's exit waits about 300 ms for. Sending (the
                        // logs of the program's own hooks) still works. No answer within the bound: exit as before.
                        if (runtime.exiting.get() && conn.isOpen && runCatching { conn.send(FrameType.BYE) }.isSuccess) {
                            conn.awaitReadingEnd(BYE_WAIT_MILLIS)
                        }
                    },
                    "kcluster-flush-on-exit",
                )
            )
        conn.closed.whenComplete { _, _ -> if (runtime.exiting.compareAndSet(false, true)) orphanExit(orphan) }
        conn.start()
        System.getenv(dev.kcluster.internal.metrics.MetricsExtension.ENV_INTERVAL)?.toLongOrNull()?.let { interval ->
            val extension = dev.kcluster.internal.metrics.MetricsExtension.load()
            if (extension == null) System.err.println("kcluster worker $id: metrics are on but cluster-metrics is not on the classpath")
            else
                extension.startWorker(id, interval) { payload ->
                    conn.isOpen && runCatching { conn.send(FrameType.METRICS, payload) }.isSuccess
                }
        }
        // Ctrl-C in a terminal signals the whole foreground process group: the watcher turns it into
        // a graceful STOP, so a worker must not die of it first (SIGTERM still ends a worker).
        runCatching { sun.misc.Signal.handle(sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN) }

        val main =
            try {
                resolveMain(args[0])
            } catch (e: Exception) {
                fail(runtime, e.message ?: e.toString())
            }
        preloads.await()
        if (policy == ReadyPolicy.START) runtime.ready()
        try {
            main.invoke(null, args.copyOfRange(1, args.size) as Any)
        } catch (e: InvocationTargetException) {
            val cause = e.targetException
            fail(runtime, "uncaught exception in ${args[0]}.main: ${stackTrace(cause)}")
        }
        // main returned. The one meaning of that, for every API: a worker that still runs non-daemon
        // threads (a server on its own threads) keeps serving until the watcher stops it; once none is
        // left, the worker has finished: it stops itself (not replaced) and exits 0.
        runtime.termination.invokeOnCompletion { exitAfterStop(runtime) }
        // Already stopping (STOP, or the watcher is gone): the exit is under way, there is nothing to wait for.
        if (runtime.termination.isCompleted || runtime.exiting.get()) return
        Thread(
                {
                    awaitNonDaemonThreads()
                    if (!runtime.termination.isCompleted) runtime.stopSelf()
                },
                OrphanExit.MAIN_RETURNED,
            )
            .start()
    }

    /** Returns once no non-daemon thread but the caller (and the JVM's DestroyJavaVM) is alive. */
    private fun awaitNonDaemonThreads() {
        val me = Thread.currentThread()
        while (true) {
            val others = Thread.getAllStackTraces().keys.filter { !it.isDaemon && it !== me && it.isAlive && it.name != "DestroyJavaVM" }
            if (others.isEmpty()) return
            others.forEach { it.join() }
        }
    }

    private fun resolveMain(name: String): java.lang.reflect.Method {
        val cls =
            try {
                Class.forName(name, false, Thread.currentThread().contextClassLoader ?: WorkerMain::class.java.classLoader)
            } catch (e: ClassNotFoundException) {
                throw IllegalArgumentException("main class not found: $name (check the classpath)")
            } catch (e: LinkageError) {
                throw IllegalArgumentException("main class $name cannot be loaded: $e")
            }
        val m = runCatching { cls.getMethod("main", Array<String>::class.java) }.getOrNull()
        if (m == null || !Modifier.isStatic(m.modifiers)) {
            throw IllegalArgumentException("$name has no public static void main(String[] args)")
        }
        return m
    }

    private fun fail(runtime: WorkerRuntime, text: String): Nothing {
        runtime.exiting.set(true)
        System.err.println("kcluster worker ${runtime.id}: $text")
        runtime.reportExit(text)
        runtime.conn.close()
        exitProcess(EXIT_FAILURE)
    }

    private fun exitAfterStop(runtime: WorkerRuntime) {
        if (!runtime.exiting.compareAndSet(false, true)) return
        runCatching { runtime.conn.flush() }
        Thread({ exitProcess(0) }, "kcluster-exit").start()
    }

    /** The watcher is gone: run the shutdown hooks, then end within the grace. */
    private fun orphanExit(orphan: OrphanExit) {
        System.err.println("kcluster worker: the watcher is gone; exiting")
        orphan.begin()
    }

    private fun stackTrace(t: Throwable): String = StringWriter().also { t.printStackTrace(PrintWriter(it)) }.toString()
}
