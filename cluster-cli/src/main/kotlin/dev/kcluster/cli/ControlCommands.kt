package dev.kcluster.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.options.required
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import com.github.ajalt.clikt.parameters.types.restrictTo
import java.time.Duration
import java.util.concurrent.TimeUnit

/** Shared by the control commands: `-p/--pid-file`, the request, and errors as exit code 1 on stderr. */
internal abstract class ControlCommand(name: String, private val transport: ControlTransport) : CliktCommand(name = name) {
    protected val pidFile by option("-p", "--pid-file", metavar = "F", help = "the running cluster's pid file").path().required()

    protected fun call(request: ControlRequest): ControlResponse =
        try {
            transport.call(pidFile, request)
        } catch (e: ControlException) {
            failWith(e.message ?: e.toString(), EXIT_FAILURE)
        }

    protected fun failWith(message: String, code: Int): Nothing {
        echo("cluster $commandName: $message", err = true)
        throw ProgramResult(code)
    }

    companion object {
        const val EXIT_FAILURE = 1
        const val EXIT_ROLLED_BACK = 3
    }
}

internal class StatusCommand(transport: ControlTransport) : ControlCommand("status", transport) {
    override fun help(context: Context): String =
        "Shows the listening addresses, socket mode and dropped messages, and per worker (standbys too): slot, id, pid, " +
            "state, uptime, restarts, resident memory, heap in use after GC, open connections, requests and the slot's last exit reason."

    private val json by option("--json", help = "print one JSON object for scripts").flag()
    private val allHosts by option("--all-hosts", help = "list every host of the cluster's ZooKeeper group instead").flag()

    override fun run() {
        val r = call(ControlRequest("status", allHosts = if (allHosts) true else null))
        if (!r.ok) failWith(r.error ?: "status failed", EXIT_FAILURE)
        if (allHosts) {
            val hosts = r.hosts ?: failWith(r.error ?: "the watcher sent no hosts", EXIT_FAILURE)
            if (json)
                echo(ControlProtocol.json.encodeToString(kotlinx.serialization.builtins.ListSerializer(HostStatus.serializer()), hosts))
            else echo(StatusTable.renderHosts(hosts), trailingNewline = false)
            return
        }
        val status = r.status ?: failWith(r.error ?: "the watcher sent no status", EXIT_FAILURE)
        if (json) {
            echo(ControlProtocol.json.encodeToString(ClusterStatus.serializer(), status))
        } else {
            echo(StatusTable.render(status), trailingNewline = false)
        }
    }
}

internal class ReloadCommand(transport: ControlTransport) : ControlCommand("reload", transport) {
    override fun help(context: Context): String =
        "Rolling restart: replaces the workers one at a time, each after its replacement is READY. " +
            "Exit code 0 when all were replaced, 3 when a replacement failed and the old workers were kept. " +
            "With --all-hosts, every host of the ZooKeeper group reloads in turn (one line per host), and a host that rolls back " +
            "stops the roll (exit code 3)."

    private val allHosts by
        option("--all-hosts", help = "reload every host of the cluster's ZooKeeper group, one host at a time; a rollback stops the roll")
            .flag()

    override fun run() {
        if (allHosts) return reloadAllHosts()
        val r = call(ControlRequest("reload"))
        when {
            r.ok -> echo("reloaded: ${r.replaced ?: 0} workers replaced")
            r.rolledBack == true -> failWith("rolled back after ${r.replaced ?: 0} replaced: ${r.error}", EXIT_ROLLED_BACK)
            else -> failWith(r.error ?: "reload failed", EXIT_FAILURE)
        }
    }

    private fun reloadAllHosts() {
        val r = call(ControlRequest("reload", allHosts = true))
        if (r.restarts == null) failWith(r.error ?: "reload --all-hosts failed", EXIT_FAILURE)
        reloadAllHostsLines(r).forEach { echo(it) }
        if (r.rolledBack == true) failWith("a host rolled back; the hosts after it were not reloaded", EXIT_ROLLED_BACK)
    }
}

/** `reload --all-hosts`: one line per host. */
private fun reloadAllHostsLines(r: ControlResponse): List<String> =
    r.restarts.orEmpty().map { h ->
        "${h.member}: " +
            when (h.outcome) {
                "RESTARTED" -> "reloaded, ${h.replaced} worker${if (h.replaced == 1) "" else "s"} replaced"
                "ROLLED_BACK" -> "rolled back after ${h.replaced} replaced: ${h.reason?.lineSequence()?.first()}"
                "SKIPPED" -> "skipped (${h.reason})"
                "GONE" -> "gone (${h.reason})"
                else -> "${h.outcome.lowercase()}: ${h.reason}"
            }
    }

internal class StopCommand(transport: ControlTransport) : ControlCommand("stop", transport) {
    override fun help(context: Context): String = "Stops the cluster gracefully and waits until the watcher has exited."

    private val timeout by
        option("--timeout", help = "how long to wait for the watcher to exit (default 2m)")
            .duration()
            .default(Duration.ofMinutes(2), defaultForHelp = "2m")

    override fun run() {
        val r = call(ControlRequest("stop"))
        if (!r.ok) failWith(r.error ?: "stop failed", EXIT_FAILURE)
        val pid = r.watcherPid ?: return
        val handle = ProcessHandle.of(pid).orElse(null) ?: return
        try {
            handle.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
        } catch (e: java.util.concurrent.TimeoutException) {
            failWith("the watcher (pid $pid) is still stopping after ${Durations.format(timeout)}", EXIT_FAILURE)
        }
    }
}

internal class ScaleCommand(transport: ControlTransport) : ControlCommand("scale", transport) {
    override fun help(context: Context): String = "Grows or shrinks the cluster to N workers and waits until they are READY."

    private val workers by argument("N", help = "the new number of workers (at least 1)").int().restrictTo(min = 1)

    override fun run() {
        val r = call(ControlRequest("scale", workers))
        if (!r.ok) failWith(r.error ?: "scale failed", EXIT_FAILURE)
        // Serving slots only: standbys are not workers of the new size.
        val serving = r.status?.workers?.filterNot { it.isStandby }?.map { it.slot }?.distinct()?.size
        echo("scaled to ${serving ?: workers} workers")
    }
}

internal class RestartWorkerCommand(transport: ControlTransport) : ControlCommand("restart-worker", transport) {
    override fun help(context: Context): String =
        "Replaces the worker with this ID alone: its successor becomes READY first, then the old one drains. " +
            "Exit code 0 when it was replaced, 3 when the successor failed and the old worker was kept."

    private val worker by argument("ID", help = "the worker id, as `cluster status` shows it").int()

    override fun run() {
        val r = call(ControlRequest("restart-worker", worker = worker))
        when {
            r.ok -> echo(r.detail ?: "worker $worker replaced")
            r.rolledBack == true -> failWith("rolled back: ${r.error}", EXIT_ROLLED_BACK)
            else -> failWith(r.error ?: "restart-worker failed", EXIT_FAILURE)
        }
    }
}

internal class KillWorkerCommand(transport: ControlTransport) : ControlCommand("kill-worker", transport) {
    override fun help(context: Context): String =
        "Kills the worker with this ID at once (SIGKILL); the watcher treats it as a crash and respawns it (or promotes a standby)."

    private val worker by argument("ID", help = "the worker id, as `cluster status` shows it").int()

    override fun run() {
        val r = call(ControlRequest("kill-worker", worker = worker))
        if (!r.ok) failWith(r.error ?: "kill-worker failed", EXIT_FAILURE)
        echo(r.detail ?: "worker $worker killed")
    }
}
