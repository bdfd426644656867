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
import dev.kcluster.ClassCache
import dev.kcluster.ReadyPolicy
import dev.kcluster.SocketMode
import dev.kcluster.BalanceStrategy
import dev.kcluster.WatcherConfig
import java.io.File
import java.nio.file.Files
import java.nio.file.Path

/**
 * `cluster run [OPTIONS] TARGET [ARGS]...` (shorthand `cluster [OPTIONS] TARGET [ARGS]...`): runs TARGET in a
 * cluster of worker JVMs until stopped. Parsing ends at TARGET: everything after it goes to the workers
 * unchanged. The options are validated once, by [toRunOptions]; [runner] does the work and returns the exit
 * code (tests replace it).
 */
internal class RunCommand(private val runner: (RunOptions) -> Int = { if (ScriptTarget.matches(it.target)) ScriptTarget.run(it) else ClusterRunner(it).run() }) : CliktCommand(name = "run") {
    init {
        context { allowInterspersedArgs = false }
    }

    override fun help(context: Context): String = """
        Runs TARGET in a cluster of worker JVMs until it is stopped.

        The workers share TARGET's listening sockets; crashed workers are restarted, and a reload
        replaces them one at a time without dropping connections.

        TARGET is a jar (its Main-Class runs), the fully qualified name of a main class found on
        --classpath, or a Kotlin DSL script FILE.cluster.kts. ARGS go to every worker's main unchanged.
    """.trimIndent()

    override fun helpEpilog(context: Context): String = """
        Control a running cluster (over the socket beside its pid file):
        cluster status -p F [--json] · cluster reload -p F · cluster stop -p F · cluster scale N -p F

        Signals: $SIGNALS

        Exit codes: $EXIT_CODES
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

    private val classCache by option(
        "--class-cache", metavar = "auto|off|DIR",
        help = "class-data archives that speed up worker starts: auto (under \$XDG_CACHE_HOME/kcluster), off, or a directory",
    ).convert { ClassCache.parse(it) }.default(ClassCache.AUTO, defaultForHelp = "auto")

    private val javaCommand by option("--java", metavar = "PATH", help = "the java executable for workers (default: the watcher's)")
        .convert { value ->
            val p = Path.of(value).let { if (Files.isDirectory(it)) it.resolve("bin/java") else it }
            if (!Files.isExecutable(p)) fail("'$value' is not an executable java (or a JDK directory)")
            p.toString()
        }

    private val jvmDefaults by option("--jvm-defaults", help = "lean: kcluster's small-footprint worker JVM defaults; off: the JVM's own")
        .choice("lean" to true, "off" to false).default(true, defaultForHelp = "lean")

    private val pidFile by option(
        "-p", "--pid-file", metavar = "F", help = "write the watcher's pid here; enables the control socket F.sock",
    ).path(canBeDir = false).convert { checkParent(it); it }

    private val logLevel by option(
        "-l", "--log-level", metavar = "LEVEL", help = "trace, debug, info, warn, error or off; workers inherit it",
    ).choice("trace", "debug", "info", "warn", "error", "off", ignoreCase = true).default("info")

    private val logFormat by option("--log-format", help = "text lines or JSON lines").choice("text", "json").default("text")

    private val logFile by option(
        "-f", "--log-file", metavar = "F", help = "append the merged log here instead of stderr; SIGUSR1 reopens it",
    ).path(canBeDir = false).convert { checkParent(it); it }

    private val environment by option("-e", "--env", metavar = "K=V", help = "an environment variable for every worker (repeatable)")
        .convert { value ->
            val name = value.substringBefore('=', "")
            if (name.isEmpty()) fail("expected K=V, got '$value'")
            name to value.substringAfter('=')
        }.multiple()
    private val chdir by option("--chdir", metavar = "DIR", help = "the workers' working directory (default: the watcher's)")
        .path(mustExist = true, canBeFile = false)

    private val startTimeout by option("--start-timeout", help = "time from launch to a worker's IPC handshake (default 30s)").duration()
    private val readyTimeout by option("--ready-timeout", help = "time for a worker to become READY (default 60s)").duration()
    private val stopTimeout by option("--stop-timeout", help = "graceful stop time per worker before SIGTERM (default 10s)").duration()
    private val heartbeatInterval by option("--heartbeat-interval", help = "how often the watcher pings each worker (default 1s)")
        .duration()
    private val heartbeatTimeout by option("--heartbeat-timeout", help = "heartbeat silence before a worker is killed (default 15s)")
        .duration()
    private val maxRestarts by option("--max-restarts", metavar = "N", help = "crashes tolerated within --restart-window (default 5)")
        .int().restrictTo(min = 0)
    private val restartWindow by option("--restart-window", help = "window for --max-restarts (default 60s)").duration()
    private val maxBackoff by option(
        "--max-backoff", help = "longest delay before respawning a crashed worker; delays double from 100ms (default 10s)",
    ).duration()
    private val maxFrameSize by option("--max-frame-size", metavar = "BYTES", help = "largest IPC message, either way (default 16 MiB)")
        .int()

    private val watch by option("--watch", metavar = "PATH", help = "rolling restart when files under PATH change (repeatable)")
        .path(mustExist = true).multiple()

    private val socketMode by option(
        "--socket-mode",
        help = "shared: the watcher binds and shares each listener; reuseport: each worker binds with SO_REUSEPORT; " +
            "balance: the watcher accepts and passes each connection to a worker (see --balance)",
    ).choice("shared" to SocketMode.SHARED, "reuseport" to SocketMode.REUSE_PORT, "balance" to SocketMode.BALANCE)
        .default(SocketMode.SHARED, defaultForHelp = "shared")

    private val balance by option(
        "--balance", help = "how --socket-mode balance picks a worker: round-robin, least-connections, or ip-hash (sticky by client address)",
    ).choice(
        "round-robin" to BalanceStrategy.ROUND_ROBIN, "least-connections" to BalanceStrategy.LEAST_CONNECTIONS, "ip-hash" to BalanceStrategy.IP_HASH,
    ).default(BalanceStrategy.ROUND_ROBIN, defaultForHelp = "round-robin")

    private val readyPolicy by option(
        "--ready-when",
        help = "listen: when the program takes its first listening socket; explicit: only Cluster.ready(); start: when main starts",
    ).choice("listen" to ReadyPolicy.LISTEN, "explicit" to ReadyPolicy.EXPLICIT, "start" to ReadyPolicy.START)
        .default(ReadyPolicy.LISTEN, defaultForHelp = "listen")

    private val target by argument("TARGET", help = "a jar, or a main class on --classpath")
    private val args by argument("ARGS", help = "arguments for every worker's main").multiple()

    override fun run() {
        val code = runner(toRunOptions())
        if (code != 0) throw ProgramResult(code)
    }

    /** The one place where options become a [WatcherConfig]; an invalid setting is a usage error naming its flag. */
    internal fun toRunOptions(): RunOptions {
        val b = WatcherConfig.builder(target)
            .args(args)
            .classpath(*classpath.flatten().toTypedArray())
            .jvmOptions(jvmOptions)
            .socketMode(socketMode)
            .balance(balance)
            .readyPolicy(readyPolicy)
            .workingDirectory(chdir)
        environment.forEach { (k, v) -> b.environment(k, v) }
        javaCommand?.let(b::javaCommand)
        b.classCache(classCache).jvmDefaults(jvmDefaults)
        startTimeout?.let(b::startTimeout)
        readyTimeout?.let(b::readyTimeout)
        stopTimeout?.let(b::stopTimeout)
        heartbeatInterval?.let(b::heartbeatInterval)
        heartbeatTimeout?.let(b::heartbeatTimeout)
        maxBackoff?.let(b::maxBackoff)
        maxFrameSize?.let(b::maxFrameSize)
        if (maxRestarts != null || restartWindow != null) {
            val defaults = WatcherConfig.builder(target).build()
            b.maxRestarts(maxRestarts ?: defaults.maxRestarts, restartWindow ?: defaults.restartWindow)
        }
        val config = try {
            b.build()
        } catch (e: IllegalArgumentException) {
            throw UsageError(optionNames(e.message ?: e.toString()))
        }
        return RunOptions(
            config = config, workers = workers, pidFile = pidFile, logLevel = logLevel.lowercase(), logJson = logFormat == "json",
            logFile = logFile, watch = watch,
        )
    }

    companion object {
        private const val MAX_WORKERS = 1024

        /** The signals, for the help texts. */
        const val SIGNALS = "TERM/INT stop gracefully (a second one kills the workers at once); HUP rolling restart; " +
            "USR1 reopens the log file; TTIN/TTOU one worker more/less; USR2 is ignored (reserved)."

        /** The exit codes, for the help texts. */
        const val EXIT_CODES = "0 clean stop; 1 the target cannot start, workers crash-looped, or the pid file is taken; " +
            "2 usage error; 3 reload rolled back; 128+n stopped at once by a second signal n."

        /** Fails the option (a usage error) when [path]'s directory does not exist. */
        private fun OptionCallTransformContext.checkParent(path: Path) {
            val dir = path.toAbsolutePath().parent
            if (dir != null && !Files.isDirectory(dir)) fail("directory $dir does not exist")
        }

        /** Says `--stop-timeout` where [WatcherConfig] says `stopTimeout`. */
        private fun optionNames(message: String): String = listOf(
            "heartbeatTimeout" to "--heartbeat-timeout", "heartbeatInterval" to "--heartbeat-interval",
            "startTimeout" to "--start-timeout", "stopTimeout" to "--stop-timeout", "readyTimeout" to "--ready-timeout",
            "restartWindow" to "--restart-window", "maxRestarts" to "--max-restarts", "maxBackoff" to "--max-backoff",
            "maxFrameSize" to "--max-frame-size", "target (a main class or a jar)" to "TARGET",
        ).fold(message) { m, (from, to) -> m.replace(from, to) }
            .replace(Regex("PT[0-9.HMS]+")) { m ->
                runCatching { Durations.format(java.time.Duration.parse(m.value)) }.getOrDefault(m.value)
            }
    }
}
