package dev.kcluster.internal.supervisor

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * Thread dumps of another JVM with `jcmd <pid> Thread.print` (falling back to jstack), for hung workers.
 *
 * The attach mechanism they use creates `.attach_pid<pid>` in the target's working directory (or in /tmp) and signals the target, which
 * then opens its attach socket. A stopped target (SIGSTOP, a debugger) never does: [take] does not try one ([isStopped]), gives up as soon
 * as the target stops or dies, and always removes the attach file that a killed tool leaves behind.
 */
internal object ThreadDump {
    /** Whether [pid] is stopped (state `T`, or `t` when traced, in `/proc/<pid>/stat`): it cannot answer an attach. */
    fun isStopped(pid: Long): Boolean = state(pid).let { it == 'T' || it == 't' }

    /** The state letter of [pid] in `/proc/<pid>/stat`, or null when it has gone. */
    private fun state(pid: Long): Char? =
        runCatching { Files.readString(Path.of("/proc/$pid/stat")).substringAfterLast(") ").firstOrNull() }.getOrNull()

    private fun gone(pid: Long): Boolean = state(pid).let { it == null || it == 'Z' || it == 'X' }

    /**
     * The thread dump of [pid], or null when the target is stopped or gone, or the tools fail or take more than [timeoutMillis]. Leaves no
     * `.attach_pid` file behind.
     */
    fun take(pid: Long, javaCommand: String, timeoutMillis: Long = 5_000): String? {
        if (isStopped(pid) || gone(pid)) return null
        // Resolved now: /proc/<pid>/cwd is gone once the target is.
        val attachFiles =
            listOfNotNull(
                    runCatching { Files.readSymbolicLink(Path.of("/proc/$pid/cwd")) }.getOrNull(),
                    Path.of(System.getProperty("java.io.tmpdir")),
                    Path.of("/tmp"),
                )
                .distinct()
                .map { it.resolve(".attach_pid$pid") }
        try {
            return attempt(pid, javaCommand, timeoutMillis)
        } finally {
            for (f in attachFiles) runCatching { Files.deleteIfExists(f) }
        }
    }

    private fun attempt(pid: Long, javaCommand: String, timeoutMillis: Long): String? {
        val deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)
        val bin = Path.of(javaCommand).parent
        for (tool in listOf("jcmd", "jstack")) {
            val exe = bin?.resolve(tool)?.takeIf { Files.isExecutable(it) }?.toString() ?: tool
            val cmd = if (tool == "jcmd") listOf(exe, pid.toString(), "Thread.print") else listOf(exe, pid.toString())
            val p = runCatching { ProcessBuilder(cmd).redirectErrorStream(true).start() }.getOrNull() ?: continue
            val out = StringBuilder()
            val reader =
                Thread { runCatching { p.inputStream.bufferedReader().forEachLine { out.appendLine(it) } } }
                    .apply {
                        isDaemon = true
                        start()
                    }
            // Waits in steps, so that a target that stops or dies meanwhile ends the wait at once.
            while (!p.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (System.nanoTime() >= deadline || isStopped(pid) || gone(pid)) {
                    p.destroyForcibly()
                    p.waitFor(1, TimeUnit.SECONDS)
                    return null
                }
            }
            reader.join(1_000)
            if (p.exitValue() == 0 && out.isNotBlank()) return out.toString()
        }
        return null
    }

    private const val POLL_MILLIS = 50L
}
