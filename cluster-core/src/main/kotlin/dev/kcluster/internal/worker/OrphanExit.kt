package dev.kcluster.internal.worker

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.LockSupport
import kotlin.system.exitProcess

/**
 * How a worker whose watcher is gone ends quickly: it runs the shutdown hooks, gives them [graceMillis] at most, then ends the process.
 *
 * Every JVM exit, `Runtime.halt` included, waits about 300 ms for threads blocked in native code (a Netty event loop in `epoll_wait`)
 * before the process ends; a signal does not. So:
 * - one thread calls `exitProcess`, which starts every shutdown hook at once and joins them;
 * - kcluster's own hook calls [gate]: it joins the other hooks (the threads started since [begin]), reports "hooks done", and never
 *   returns, so that the JVM never reaches its own slow halt;
 * - meanwhile a halt thread spawns `/bin/sh -c 'read -r _ && kill -KILL <pid>'`, waits for "hooks done" or the end of the grace, whichever
 *   comes first, and writes the line: the process ends by SIGKILL. If the helper cannot be spawned it calls `Runtime.halt`
 *   ([WorkerMain.EXIT_ORPHANED]) instead.
 */
internal class OrphanExit(private val graceMillis: Long) {
    private val hooksDone = CountDownLatch(1)
    @Volatile private var exitThread: Thread? = null
    @Volatile private var haltThread: Thread? = null
    @Volatile private var before: Set<Thread> = emptySet()
    @Volatile private var deadline = 0L

    /** Starts the exit: hooks, then the end of the process within [graceMillis] of them. Returns at once. */
    fun begin() {
        deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis)
        before = liveThreads()
        haltThread =
            Thread(::haltWhenDone, "kcluster-orphan-halt").apply {
                isDaemon = true
                start()
            }
        exitThread = Thread({ exitProcess(WorkerMain.EXIT_ORPHANED) }, "kcluster-orphan-exit").apply { start() }
    }

    /**
     * Called from kcluster's shutdown hook. On an orphan exit it waits (within the grace) for every other hook, reports it, and never
     * returns; on any other exit it returns at once.
     */
    fun gate() {
        val exiting = exitThread ?: return
        // The exiting thread starts every hook, then waits in join: from then on the hooks are all alive. If another
        // thread got into the JVM's exit first (the program's main failing, say), that one runs the hooks and ours waits,
        // BLOCKED, for ever: then hooks start within microseconds of each other, so a short settle time is enough.
        val settle = System.nanoTime() + SETTLE_NANOS
        while (
            exiting.state != Thread.State.WAITING &&
                remainingNanos() > 0 &&
                (exiting.state != Thread.State.BLOCKED || System.nanoTime() < settle)
        ) {
            LockSupport.parkNanos(POLL_NANOS)
        }
        val mine = setOfNotNull(Thread.currentThread(), exiting, haltThread)
        // Only non-daemon threads count: a hook is a thread the program made (non-daemon unless made from a daemon
        // thread), while service threads started lazily meanwhile (log writers, reapers, cleaners) are daemons that
        // never end. JDK system threads (the reaper of the helper process, a cleaner) are not hooks either.
        // Nor are kcluster's "main returned" watch and the JVM's DestroyJavaVM (started when main ends): both wait for
        // the non-daemon threads, the exiting one among them, so joining them would wait out the whole grace.
        val hooks =
            (liveThreads() - before - mine).filter {
                !it.isDaemon &&
                    it.javaClass.name != "jdk.internal.misc.InnocuousThread" &&
                    it.name != MAIN_RETURNED &&
                    it.name != "DestroyJavaVM"
            }
        for (hook in hooks) {
            val left = remainingNanos()
            if (left <= 0) break
            hook.join(TimeUnit.NANOSECONDS.toMillis(left).coerceAtLeast(1))
        }
        hooksDone.countDown()
        while (true) LockSupport.park(this)
    }

    private fun haltWhenDone() {
        val killer = runCatching { spawnKiller() }.getOrNull()
        val left = remainingNanos()
        if (left > 0) hooksDone.await(left, TimeUnit.NANOSECONDS)
        System.err.flush()
        if (killer != null) {
            runCatching {
                killer.outputStream.write('\n'.code)
                killer.outputStream.flush()
                killer.waitFor(1, TimeUnit.SECONDS)
            }
        }
        Runtime.getRuntime().halt(WorkerMain.EXIT_ORPHANED)
    }

    private fun remainingNanos() = deadline - System.nanoTime()

    companion object {
        const val POLL_NANOS = 200_000L
        const val SETTLE_NANOS = 20_000_000L
        const val MAIN_RETURNED = "kcluster-main-returned"

        /** A shell that SIGKILLs this process when it reads a line, and exits without killing at EOF (this JVM gone first). */
        fun spawnKiller(): Process =
            ProcessBuilder(
                    "/bin/sh",
                    "-c",
                    "read -r _ && kill -KILL \"\$1\"",
                    "kcluster-orphan-kill",
                    ProcessHandle.current().pid().toString(),
                )
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start()

        fun liveThreads(): Set<Thread> {
            var group = Thread.currentThread().threadGroup
            while (group.parent != null) group = group.parent
            var threads = arrayOfNulls<Thread>(group.activeCount() + 16)
            while (true) {
                val n = group.enumerate(threads, true)
                if (n < threads.size) return threads.take(n).filterNotNull().toSet()
                threads = arrayOfNulls(threads.size * 2)
            }
        }
    }
}
