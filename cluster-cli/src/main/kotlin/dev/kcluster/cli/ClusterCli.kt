@file:JvmName("ClusterCli")

package dev.kcluster.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.CliktError
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.PrintHelpMessage
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.core.parse
import com.github.ajalt.clikt.core.subcommands
import kotlin.system.exitProcess

/**
 * The `cluster` command (`bin/cluster`): `cluster run [OPTIONS] TARGET [ARGS]...` (or the shorthand `cluster [OPTIONS] TARGET [ARGS]...`)
 * runs a cluster; `cluster status|reload|stop|scale -p F` controls a running one. Exits with 0 after a clean stop, 1 on failure, 2 on a
 * usage error, 3 when `reload` rolled back, 128+n after a second stop signal n.
 */
public fun main(args: Array<String>) {
    // Loading junixsocket's JNI library takes tens of milliseconds; on a second core it overlaps the parsing of the command line,
    // which every command (run, and the control commands over the control socket) needs before it opens a socket.
    Thread({ runCatching { org.newsclub.net.unix.AFUNIXSocket.isSupported() } }, "kcluster-preload").apply { isDaemon = true }.start()
    exitProcess(execute(ClusterCommand(), withRun(args)))
}

/**
 * `cluster`: the subcommands `run`, `status`, `reload`, `stop`, `scale`, `restart-worker` and `kill-worker`. [runner] runs a cluster for
 * `run`, [transport] carries the control commands' requests (tests replace both).
 */
internal class ClusterCommand(
    runner: (RunOptions) -> Int = RunCommand.DEFAULT_RUNNER,
    transport: ControlTransport = SocketControlTransport,
) : CliktCommand(name = "cluster") {
    init {
        subcommands(
            RunCommand(runner),
            StatusCommand(transport),
            TopCommand(transport),
            ReloadCommand(transport),
            StopCommand(transport),
            ScaleCommand(transport),
            RestartWorkerCommand(transport),
            KillWorkerCommand(transport),
        )
    }

    override fun help(context: Context): String =
        """
        Runs a program in a cluster of worker JVMs that share its listening sockets, restarts crashed
        workers, and reloads them one at a time without dropping connections; controls a running cluster
        through the socket beside its pid file.

        `cluster [OPTIONS] TARGET [ARGS]...` is short for `cluster run [OPTIONS] TARGET [ARGS]...`.
        """
            .trimIndent()

    override fun helpEpilog(context: Context): String =
        """
        Signals to a running cluster: ${RunCommand.SIGNALS}

        Exit codes: ${RunCommand.EXIT_CODES}
    """
            .trimIndent()

    override fun run() = Unit

    companion object {
        /** The subcommands' names: a first word that is none of these (nor help) starts `run`. */
        val names = setOf("run", "status", "top", "reload", "stop", "scale", "restart-worker", "kill-worker")
    }
}

/**
 * [args] in the order clikt parses them: their first word that is neither an option nor an option's value names the subcommand, and moves
 * to the front (`cluster -p F status` means `cluster status -p F`); when it names none, the subcommand is `run` (`cluster -w 2 app.jar`
 * means `cluster run -w 2 app.jar`). No words at all, or only `--help`, stay for the top-level command, which lists the subcommands.
 */
internal fun withRun(args: Array<String>): Array<String> {
    val takesValue = RunCommand().registeredOptions().filter { it.nvalues.first > 0 }.flatMap { it.names }.toSet()
    var i = 0
    while (i < args.size) {
        val a = args[i]
        if (a == "--") break
        if (!a.startsWith("-") || a == "-") {
            if (a !in ClusterCommand.names) break
            return arrayOf(a) + args.sliceArray(0 until i) + args.sliceArray(i + 1 until args.size)
        }
        i += if (a in takesValue) 2 else 1
    }
    return if (args.all { it == "-h" || it == "--help" }) args else arrayOf("run") + args
}

/** Parses and runs [command] like clikt's `main`, but returns the exit code: usage errors give [EXIT_USAGE]. */
internal fun execute(command: CliktCommand, args: Array<String>): Int =
    try {
        command.parse(args)
        0
    } catch (e: CliktError) {
        command.echoFormattedHelp(e)
        exitCodeOf(e)
    }

/** A usage error (or a missing subcommand) exits with [EXIT_USAGE] like getopt tools; other clikt errors keep their status code. */
internal fun exitCodeOf(e: CliktError): Int = if (e is UsageError || (e is PrintHelpMessage && e.error)) EXIT_USAGE else e.statusCode

internal const val EXIT_USAGE = 2
