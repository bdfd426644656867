@file:JvmName("ClusterCli")

package dev.kcluster.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.CliktError
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.core.parse
import kotlin.system.exitProcess

/**
 * The `cluster` command (`bin/cluster`): `cluster [OPTIONS] TARGET [ARGS]...` runs a cluster;
 * `cluster status|reload|stop|scale -p F` controls a running one. Exits with 0 after a clean
 * stop, 1 on failure, 2 on a usage error, 3 when `reload` rolled back.
 */
public fun main(args: Array<String>) {
    exitProcess(execute(commandFor(args), args))
}

/** The command for [args]: the control commands by their first word, else running a cluster. */
internal fun commandFor(args: Array<String>): CliktCommand = if (args.firstOrNull() in ControlCli.names) ControlCli() else RunCommand()

/** Parses and runs [command] like clikt's `main`, but returns the exit code: usage errors give [EXIT_USAGE]. */
internal fun execute(command: CliktCommand, args: Array<String>): Int = try {
    command.parse(args)
    0
} catch (e: CliktError) {
    command.echoFormattedHelp(e)
    exitCodeOf(e)
}

/** A usage error exits with [EXIT_USAGE] (like getopt tools); other clikt errors keep their status code. */
internal fun exitCodeOf(e: CliktError): Int = if (e is UsageError) EXIT_USAGE else e.statusCode

internal const val EXIT_USAGE = 2
