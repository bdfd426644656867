package dev.kcluster

/**
 * Why a worker process ended.
 *
 * @property exitCode the process exit status (128 + n when killed by signal n).
 * @property signal the signal number that killed it, or null.
 * @property detail what the worker reported before dying (an uncaught exception with its stack trace, a missing main class, a missed
 *   heartbeat), or the last lines of its stderr; null if none.
 * @property expected true when the watcher asked it to stop or it stopped itself with [Cluster.stop].
 */
public class ExitReason(public val exitCode: Int, public val signal: Int?, public val detail: String?, public val expected: Boolean) {
    override fun toString(): String = buildString {
        append(if (signal != null) "killed by signal $signal (${signalName(signal)})" else "exit code $exitCode")
        if (detail != null) append(": ").append(detail.trimEnd())
    }

    private fun signalName(n: Int) =
        when (n) {
            1 -> "SIGHUP"
            2 -> "SIGINT"
            3 -> "SIGQUIT"
            6 -> "SIGABRT"
            9 -> "SIGKILL"
            11 -> "SIGSEGV"
            15 -> "SIGTERM"
            else -> "SIG$n"
        }
}
