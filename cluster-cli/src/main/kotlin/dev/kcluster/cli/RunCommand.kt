package dev.kcluster.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.core.context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.arguments.multiple
import com.github.ajalt.clikt.parameters.options.convert
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.OptionCallTransformContext
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.choice
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import com.github.ajalt.clikt.parameters.types.restrictTo
import dev.kcluster.ReadyPolicy
import dev.kcluster.SocketMode
import java.io.File
import java.nio.file.Files
import java.nio.file.Path

/**
 * `cluster [OPTIONS] TARGET [ARGS]...`: runs TARGET in a cluster of worker JVMs until stopped.
 * Parsing ends at TARGET: everything after it goes to the workers unchanged. [runner] does the
 * work and returns the exit code (tests replace it).
 */
internal class RunCommand(private val runner: (RunOptions) -> Int = { ClusterRunner(it).run() }) : CliktCommand(name = "cluster") {
    init {
        context { allowInterspersedArgs = false }
    }

    override fun help(context: Context): String = """
        Runs TARGET in a cluster of worker JVMs that share its listening sockets, restarts crashed
        workers, and reloads them one at a time without dropping connections.

        TARGET is a jar (its Main-Class runs) or the fully qualified name of a main class found on
        --classpath. ARGS go to every worker's main unchanged.
    """.trimIndent()

    override fun helpEpilog(context: Context): String = """
        Control a running cluster (over the socket beside its pid file):
        cluster status -p F [--json] · cluster reload -p F · cluster stop -p F · cluster scale N -p F

        Signals: TERM/INT stop gracefully (a second one kills the workers at once); HUP/USR1 rolling
        restart; TTIN/TTOU one worker more/less; USR2 reopens the log file.

        Exit codes: 0 clean stop; 1 the target cannot start, workers crash-looped, or the pid file is
        taken; 2 usage error.
    """.trimIndent()

    private val workers by option("-w", "--workers", metavar = "N", help = "number of worker JVMs (default: available processors)")
        .int().restrictTo(min = 1, max = MAX_WORKERS)
        .default(Runtime.getRuntime().availableProcessors(), defaultForHelp = "available processors")

    private val classpath by option(
        "-cp", "--classpath", metavar = "PATH", help = "worker classpath entries, separated by '${File.pathSeparator}' (repeatable)",
    ).convert { value ->
        value.split(File.pathSeparator).filter { it.isNotEmpty() }.onEach { entry ->
            val checked = if (entry.endsWith("*")) Path.of(entry).parent ?: Path.of(".") else Path.of(entry)
            if (!Files.exists(checked)) fail("'$entry' does not exist")
        }
    }.multiple()

    private val jvmOptions by option(
        "--jvm-opt", metavar = "OPT", help = "a JVM option for every worker, e.g. --jvm-opt=-Xmx256m (repeatable)",
    ).multiple()

    private val pidFile by option(
        "-p", "--pid-file", metavar = "F", help = "write the watcher's pid here; enables the control socket F.sock",
    ).path(canBeDir = false).convert { checkParent(it); it }

    private val logLevel by option(
        "-l", "--log-level", metavar = "LEVEL", help = "trace, debug, info, warn, error or off; workers inherit it",
    ).choice("trace", "debug", "info", "warn", "error", "off", ignoreCase = true).default("info")

    private val logFormat by option("--log-format", help = "text lines or JSON lines").choice("text", "json").default("text")

    private val logFile by option(
        "-f", "--log-file", metavar = "F", help = "append the merged log here instead of stderr; SIGUSR2 reopens it",
    ).path(canBeDir = false).convert { checkParent(it); it }

    private val stopTimeout by option("--stop-timeout", help = "graceful stop time per worker before SIGTERM (default 10s)").duration()
    private val readyTimeout by option("--ready-timeout", help = "time for a worker to become READY (default 60s)").duration()
    private val heartbeatTimeout by option("--heartbeat-timeout", help = "heartbeat silence before a worker is killed (default 15s)")
        .duration()
    private val maxRestarts by option("--max-restarts", metavar = "N", help = "crashes tolerated within --restart-window (default 5)")
        .int().restrictTo(min = 0)
    private val restartWindow by option("--restart-window", help = "window for --max-restarts (default 60s)").duration()

    private val watch by option("--watch", metavar = "PATH", help = "rolling restart when files under PATH change (repeatable)")
        .path(mustExist = true).multiple()

    private val socketMode by option(
        "--socket-mode", help = "shared: the watcher binds and shares each listener; reuseport: each worker binds with SO_REUSEPORT",
    ).choice("shared" to SocketMode.SHARED, "reuseport" to SocketMode.REUSE_PORT).default(SocketMode.SHARED, defaultForHelp = "shared")

    private val readyPolicy by option(
        "--ready-when",
        help = "listen: when the program takes its first listening socket; explicit: only Cluster.ready(); start: when main starts",
    ).choice("listen" to ReadyPolicy.LISTEN, "explicit" to ReadyPolicy.EXPLICIT, "start" to ReadyPolicy.START)
        .default(ReadyPolicy.LISTEN, defaultForHelp = "listen")

    private val zookeeper by option(
        "--zookeeper", metavar = "CONNECT", help = "join a group of hosts over ZooKeeper (host:port,…); needs --group",
    )
    private val group by option("--group", metavar = "NAME", help = "the group name shared by every host of this cluster")
    private val zkAuthFile by option(
        "--zk-auth-file", metavar = "F", help = "ZooKeeper digest credentials 'user:password' (mode 600); default \$KCLUSTER_ZK_AUTH if set",
    ).path(mustExist = true, canBeDir = false)
    private val zkSessionTimeout by option("--zk-session-timeout", help = "ZooKeeper session timeout: the failover time (default 15s)").duration()

    private val target by argument("TARGET", help = "a jar, or a main class on --classpath")
    private val args by argument("ARGS", help = "arguments for every worker's main").multiple()

    override fun run() {
        val options = RunOptions(
            target = target, args = args, workers = workers, classpath = classpath.flatten(), jvmOptions = jvmOptions,
            pidFile = pidFile, logLevel = logLevel.lowercase(), logJson = logFormat == "json", logFile = logFile,
            stopTimeout = stopTimeout, readyTimeout = readyTimeout, heartbeatTimeout = heartbeatTimeout,
            maxRestarts = maxRestarts, restartWindow = restartWindow, watch = watch,
            socketMode = socketMode, readyPolicy = readyPolicy,
            zookeeper = zookeeper, group = group, zkAuthFile = zkAuthFile, zkSessionTimeout = zkSessionTimeout,
        )
        if ((zookeeper == null) != (group == null)) throw UsageError("--zookeeper and --group go together")
        if (zookeeper == null && (zkAuthFile != null || zkSessionTimeout != null)) throw UsageError("--zk-auth-file and --zk-session-timeout need --zookeeper")
        try {
            options.toWatcherConfig()
        } catch (e: IllegalArgumentException) {
            throw UsageError(optionNames(e.message ?: e.toString()))
        }
        val code = runner(options)
        if (code != 0) throw ProgramResult(code)
    }

    private companion object {
        const val MAX_WORKERS = 1024

        /** Fails the option (a usage error) when [path]'s directory does not exist. */
        fun OptionCallTransformContext.checkParent(path: Path) {
            val dir = path.toAbsolutePath().parent
            if (dir != null && !Files.isDirectory(dir)) fail("directory $dir does not exist")
        }

        /** Says `--stop-timeout` where [dev.kcluster.WatcherConfig] says `stopTimeout`. */
        fun optionNames(message: String): String = listOf(
            "heartbeatTimeout" to "--heartbeat-timeout", "heartbeatInterval" to "the heartbeat interval",
            "stopTimeout" to "--stop-timeout", "readyTimeout" to "--ready-timeout",
            "restartWindow" to "--restart-window", "maxRestarts" to "--max-restarts",
        ).fold(message) { m, (from, to) -> m.replace(from, to) }
            .replace(Regex("PT[0-9.HMS]+")) { m ->
                runCatching { Durations.format(java.time.Duration.parse(m.value)) }.getOrDefault(m.value)
            }
    }
}
