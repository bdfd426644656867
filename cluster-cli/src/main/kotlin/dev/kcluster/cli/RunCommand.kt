package dev.kcluster.cli

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.core.UsageError
import com.github.ajalt.clikt.core.context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.arguments.multiple
import com.github.ajalt.clikt.parameters.arguments.optional
import com.github.ajalt.clikt.parameters.options.OptionCallTransformContext
import com.github.ajalt.clikt.parameters.options.convert
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.choice
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.long
import com.github.ajalt.clikt.parameters.types.path
import com.github.ajalt.clikt.parameters.types.restrictTo
import dev.kcluster.BalanceStrategy
import dev.kcluster.ClassCache
import dev.kcluster.ReadyPolicy
import dev.kcluster.SocketMode
import java.io.File
import java.nio.file.Files
import java.nio.file.Path

/**
 * `cluster run [OPTIONS] TARGET [ARGS]...` (shorthand `cluster [OPTIONS] TARGET [ARGS]...`): runs TARGET in a cluster of worker JVMs until
 * stopped. Parsing ends at TARGET: everything after it goes to the workers unchanged. The options are validated once, by [toRunOptions];
 * [runner] does the work and returns the exit code (tests replace it).
 */
internal class RunCommand(private val runner: (RunOptions) -> Int = DEFAULT_RUNNER) : CliktCommand(name = "run") {
    init {
        context { allowInterspersedArgs = false }
    }

    override fun help(context: Context): String =
        """
        Runs TARGET in a cluster of worker JVMs until it is stopped.

        The workers share TARGET's listening sockets; crashed workers are restarted, and a reload
        replaces them one at a time without dropping connections.

        TARGET is a jar (its Main-Class runs), the fully qualified name of a main class found on
        --classpath, or a Kotlin DSL script FILE.cluster.kts. ARGS go to every worker's main unchanged.
        """
            .trimIndent()

    override fun helpEpilog(context: Context): String =
        """
        Control a running cluster (over the socket beside its pid file):
        cluster status -p F [--json] · cluster reload -p F · cluster stop -p F · cluster scale N -p F ·
        cluster restart-worker ID -p F · cluster kill-worker ID -p F

        Signals: $SIGNALS

        Exit codes: $EXIT_CODES
    """
            .trimIndent()

    private val config by
        option(
                "--config",
                metavar = "FILE",
                help = "read settings from this HOCON file (keys as in the README); flags override it, reload rereads it",
            )
            .path(mustExist = true, canBeDir = false)

    private val workers by
        option("-w", "--workers", metavar = "N", help = "number of worker JVMs (default: available processors)")
            .int()
            .restrictTo(min = 1, max = MAX_WORKERS)

    private val classpath by
        option("-cp", "--classpath", metavar = "PATH", help = "worker classpath entries, separated by '${File.pathSeparator}' (repeatable)")
            .convert { value ->
                value.split(File.pathSeparator).filter { it.isNotEmpty() }.onEach { entry -> checkEntry(entry)?.let { fail(it) } }
            }
            .multiple()

    private val jvmOptions by
        option("--jvm-opt", metavar = "OPT", help = "a JVM option for every worker, e.g. --jvm-opt=-Xmx256m (repeatable)").multiple()

    private val classCache by
        option(
                "--class-cache",
                metavar = "auto|off|DIR",
                help =
                    "class-data archives that speed up worker starts: auto (under \$XDG_CACHE_HOME/kcluster, the default), off, or a directory",
            )
            .convert { ClassCache.parse(it) }

    private val javaCommand by
        option("--java", metavar = "PATH", help = "the java executable for workers (default: the watcher's)").convert { value ->
            checkJava(value)?.let { fail(it) } ?: javaPath(value)
        }

    private val jvmDefaults by
        option("--jvm-defaults", help = "lean: kcluster's small-footprint worker JVM defaults; off (default): the JVM's own")
            .choice("lean" to true, "off" to false)

    private val pidFile by
        option("-p", "--pid-file", metavar = "F", help = "write the watcher's pid here; enables the control socket F.sock")
            .path(canBeDir = false)
            .convert {
                checkParent(it)
                it
            }

    private val logLevel by
        option("-l", "--log-level", metavar = "LEVEL", help = "trace, debug, info (default), warn, error or off; workers inherit it")
            .choice(*LOG_LEVELS.toTypedArray(), ignoreCase = true)

    private val logFormat by option("--log-format", help = "text lines (default) or JSON lines").choice("text" to false, "json" to true)

    private val logFile by
        option("-f", "--log-file", metavar = "F", help = "append the merged log here instead of stderr; SIGUSR1 reopens it")
            .path(canBeDir = false)
            .convert {
                checkParent(it)
                it
            }

    private val environment by
        option("-e", "--env", metavar = "K=V", help = "an environment variable for every worker (repeatable)")
            .convert { value ->
                val name = value.substringBefore('=', "")
                if (name.isEmpty()) fail("expected K=V, got '$value'")
                name to value.substringAfter('=')
            }
            .multiple()
    private val chdir by
        option("--chdir", metavar = "DIR", help = "the workers' working directory (default: the watcher's)")
            .path(mustExist = true, canBeFile = false)

    private val startTimeout by option("--start-timeout", help = "time from launch to a worker's IPC handshake (default 30s)").duration()
    private val readyTimeout by option("--ready-timeout", help = "time for a worker to become READY (default 60s)").duration()
    private val stopTimeout by option("--stop-timeout", help = "graceful stop time per worker before SIGTERM (default 10s)").duration()
    private val heartbeatInterval by
        option("--heartbeat-interval", help = "how often the watcher pings each worker (default 1s)").duration()
    private val heartbeatTimeout by
        option("--heartbeat-timeout", help = "heartbeat silence before a worker is killed (default 15s)").duration()
    private val maxRestarts by
        option("--max-restarts", metavar = "N", help = "crashes tolerated within --restart-window (default 5)").int().restrictTo(min = 0)
    private val restartWindow by option("--restart-window", help = "window for --max-restarts (default 60s)").duration()
    private val maxBackoff by
        option("--max-backoff", help = "longest delay before respawning a crashed worker; delays double from 100ms (default 10s)")
            .duration()
    private val maxFrameSize by
        option("--max-frame-size", metavar = "BYTES", help = "largest IPC message, either way (default 16 MiB)").int()

    private val standby by
        option("--standby", metavar = "N", help = "standby workers, held before serving and promoted when a worker dies (default 0)")
            .int()
            .restrictTo(min = 0, max = MAX_WORKERS)
    private val maxRequests by
        option("--max-requests", metavar = "N", help = "recycle a worker after N requests (default 0: no limit)").long().restrictTo(min = 0)
    private val maxRequestsJitter by
        option(
                "--max-requests-jitter",
                metavar = "J",
                help = "add a random 0..J to each worker's --max-requests, so they are not recycled together",
            )
            .long()
            .restrictTo(min = 0)
    private val maxMemory by option("--max-memory", help = "recycle a worker whose heap in use after GC exceeds SIZE, e.g. 512m").size()
    private val maxRss by option("--max-rss", help = "recycle a worker whose resident memory exceeds SIZE, e.g. 1g").size()
    private val messageBuffer by
        option(
                "--message-buffer",
                metavar = "COUNT",
                help =
                    "worker messages kept for a consumer before new ones are dropped and counted (default 10000; cluster has no consumer)",
            )
            .int()
            .restrictTo(min = 1)
    private val metrics by
        option("--metrics", metavar = "ADDR", help = "serve Prometheus metrics for the whole cluster at HOST:PORT (e.g. 127.0.0.1:9400)")
            .convert { value ->
                try {
                    parseAddress(value)
                } catch (e: IllegalArgumentException) {
                    fail(e.message ?: "invalid address '$value'")
                }
            }
    private val metricsInterval by option("--metrics-interval", help = "how often each worker reports its meters (default 1s)").duration()

    private val watch by
        option("--watch", metavar = "PATH", help = "rolling restart when files under PATH change (repeatable)")
            .path(mustExist = true)
            .multiple()

    private val socketMode by
        option(
                "--socket-mode",
                help =
                    "shared (default): the watcher binds and shares each listener; reuseport: each worker binds with SO_REUSEPORT; " +
                        "balance: the watcher accepts and passes each connection to a worker (see --balance)",
            )
            .choice(SOCKET_MODES)

    private val balance by
        option(
                "--balance",
                help =
                    "how --socket-mode balance picks a worker: round-robin (default), least-connections, or ip-hash (sticky by client address)",
            )
            .choice(BALANCE_STRATEGIES)

    private val readyPolicy by
        option(
                "--ready-when",
                help =
                    "listen (default): when the program takes its first listening socket; explicit: only Cluster.ready(); start: when main starts",
            )
            .choice(READY_POLICIES)

    private val zookeeper by
        option("--zookeeper", metavar = "CONNECT", help = "join a group of hosts over ZooKeeper (host:port,…); needs --group")
    private val group by option("--group", metavar = "NAME", help = "the group name shared by every host of this cluster")
    private val zkAuthFile by
        option(
                "--zk-auth-file",
                metavar = "F",
                help = "ZooKeeper digest credentials 'user:password' (mode 600); default \$KCLUSTER_ZK_AUTH if set",
            )
            .path(mustExist = true, canBeDir = false)
    private val zkSessionTimeout by
        option("--zk-session-timeout", help = "ZooKeeper session timeout: the failover time (default 15s)").duration()

    private val target by argument("TARGET", help = "a jar, or a main class on --classpath (optional with `target` in --config)").optional()
    private val args by argument("ARGS", help = "arguments for every worker's main").multiple()

    override fun run() {
        val code = runner(toRunOptions())
        if (code != 0) throw ProgramResult(code)
    }

    /** What the command line sets (null where it sets nothing). */
    internal fun flags(): RunSettings =
        RunSettings(
            workers = workers,
            target = target,
            args = if (target != null) args else null,
            classpath = classpath.flatten().ifEmpty { null },
            jvmOptions = jvmOptions.ifEmpty { null },
            classCache = classCache,
            java = javaCommand,
            jvmDefaults = jvmDefaults,
            pidFile = pidFile,
            logLevel = logLevel?.lowercase(),
            logJson = logFormat,
            logFile = logFile,
            environment = environment.takeIf { it.isNotEmpty() }?.toMap(),
            chdir = chdir,
            startTimeout = startTimeout,
            readyTimeout = readyTimeout,
            stopTimeout = stopTimeout,
            heartbeatInterval = heartbeatInterval,
            heartbeatTimeout = heartbeatTimeout,
            maxRestarts = maxRestarts,
            restartWindow = restartWindow,
            maxBackoff = maxBackoff,
            maxFrameSize = maxFrameSize,
            watch = watch.ifEmpty { null },
            socketMode = socketMode,
            readyPolicy = readyPolicy,
            standby = standby,
            maxRequests = maxRequests,
            maxRequestsJitter = maxRequestsJitter,
            maxMemory = maxMemory,
            maxRss = maxRss,
            messageBuffer = messageBuffer,
            metrics = metrics,
            metricsInterval = metricsInterval,
            balance = balance,
            zookeeper = zookeeper,
            group = group,
            zkAuthFile = zkAuthFile,
            zkSessionTimeout = zkSessionTimeout,
        )

    /**
     * The one place where options (and the --config file under them) become a [WatcherConfig]; an invalid setting is a usage error naming
     * its flag, or the file, line and key.
     */
    internal fun toRunOptions(): RunOptions {
        val flags = flags()
        val file = config
        fun build(): RunOptions = if (file == null) flags.toRunOptions() else flags.over(ConfigFile.read(file)).toRunOptions(file)
        val options =
            try {
                build()
            } catch (e: ConfigFileException) {
                throw UsageError(e.message ?: e.toString())
            }
        return options.also { if (file != null) it.reread = ::build }
    }

    companion object {
        const val MAX_WORKERS = 1024

        /** Runs a `.cluster.kts` TARGET through cluster-script, any other through [ClusterRunner]. */
        val DEFAULT_RUNNER: (RunOptions) -> Int = { if (ScriptTarget.matches(it.target)) ScriptTarget.run(it) else ClusterRunner(it).run() }

        /** The signals, for the help texts. */
        const val SIGNALS =
            "TERM/INT stop gracefully (a second one kills the workers at once); HUP rolling restart; " +
                "USR1 reopens the log file; TTIN/TTOU one worker more/less; USR2 is ignored (reserved)."

        /** The exit codes, for the help texts. */
        const val EXIT_CODES =
            "0 clean stop; 1 the target cannot start, workers crash-looped, or the pid file is taken; " +
                "2 usage error; 3 reload rolled back; 128+n stopped at once by a second signal n."

        /** Fails the option (a usage error) when [path]'s directory does not exist. */
        private fun OptionCallTransformContext.checkParent(path: Path) {
            val dir = path.toAbsolutePath().parent
            if (dir != null && !Files.isDirectory(dir)) fail("directory $dir does not exist")
        }

        val LOG_LEVELS = listOf("trace", "debug", "info", "warn", "error", "off")
        val SOCKET_MODES = mapOf("shared" to SocketMode.SHARED, "reuseport" to SocketMode.REUSE_PORT, "balance" to SocketMode.BALANCE)
        val BALANCE_STRATEGIES =
            mapOf(
                "round-robin" to BalanceStrategy.ROUND_ROBIN,
                "least-connections" to BalanceStrategy.LEAST_CONNECTIONS,
                "ip-hash" to BalanceStrategy.IP_HASH,
            )

        /** `HOST:PORT` (IPv6 in brackets) as a resolved address; @throws IllegalArgumentException saying why not. */
        fun parseAddress(value: String): java.net.InetSocketAddress {
            val port = value.substringAfterLast(':', "").toIntOrNull()
            val host = value.substringBeforeLast(':', "").removePrefix("[").removeSuffix("]")
            require(host.isNotEmpty() && port != null && port in 0..65535) { "expected HOST:PORT, got '$value'" }
            return java.net.InetSocketAddress(host, port).also { require(!it.isUnresolved) { "cannot resolve host '$host'" } }
        }

        val READY_POLICIES = mapOf("listen" to ReadyPolicy.LISTEN, "explicit" to ReadyPolicy.EXPLICIT, "start" to ReadyPolicy.START)

        /** Why a classpath [entry] is unusable, or null. */
        fun checkEntry(entry: String): String? {
            val checked = if (entry.endsWith("*")) Path.of(entry).parent ?: Path.of(".") else Path.of(entry)
            return if (Files.exists(checked)) null else "'$entry' does not exist"
        }

        /** The java executable [value] names (a JDK directory means its bin/java). */
        fun javaPath(value: String): String = Path.of(value).let { if (Files.isDirectory(it)) it.resolve("bin/java") else it }.toString()

        /** Why [value] is not a usable java, or null. */
        fun checkJava(value: String): String? =
            if (Files.isExecutable(Path.of(javaPath(value)))) null else "'$value' is not an executable java (or a JDK directory)"
    }
}
