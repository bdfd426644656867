package dev.kcluster.cli

import com.github.ajalt.clikt.testing.test
import dev.kcluster.ReadyPolicy
import dev.kcluster.SocketMode
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

class RunCommandTest :
    FunSpec({
        val tmp = Files.createTempDirectory("kcluster-cli-parse")
        val javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        afterSpec { tmp.toFile().deleteRecursively() }

        /** Parses `cluster [argv]` (the dispatch of `main` included) with a runner that only records what it was asked to run. */
        fun parse(vararg argv: String, exit: Int = 0): Pair<RunOptions?, com.github.ajalt.clikt.testing.CliktCommandTestResult> {
            var seen: RunOptions? = null
            val result =
                ClusterCommand(
                        runner = {
                            seen = it
                            exit
                        }
                    )
                    .test(withRun(arrayOf(*argv)).toList())
            return seen to result
        }

        /** The one `Error:` line of a usage error, and the exit code `main` would give. */
        fun usageError(vararg argv: String): Pair<String, Int> {
            val (o, r) = parse(*argv)
            o.shouldBeNull()
            val code = execute(ClusterCommand(runner = { 0 }), withRun(arrayOf(*argv)))
            return r.stderr.lines().filter { it.startsWith("Error:") }.single() to code
        }

        /** Every setting of [o] as text, to compare two parses. */
        fun describe(o: RunOptions): String =
            with(o.config) {
                listOf(
                        target,
                        args,
                        classpath,
                        inheritClasspath,
                        javaCommand,
                        jvmOptions,
                        environment,
                        workingDirectory,
                        startTimeout,
                        readyTimeout,
                        stopTimeout,
                        heartbeatInterval,
                        heartbeatTimeout,
                        maxRestarts,
                        restartWindow,
                        maxBackoff,
                        readyPolicy,
                        socketMode,
                        maxFrameSize,
                        o.workers,
                        o.pidFile,
                        o.logLevel,
                        o.logJson,
                        o.logFile,
                        o.watch,
                    )
                    .joinToString("|")
            }

        test("TARGET alone uses the defaults") {
            val (o, r) = parse("com.example.Main")
            r.statusCode shouldBe 0
            o.shouldNotBeNull()
            o.target shouldBe "com.example.Main"
            o.workers shouldBe Runtime.getRuntime().availableProcessors()
            o.logLevel shouldBe "info"
            o.logJson shouldBe false
            o.pidFile.shouldBeNull()
            val c = o.config
            val defaults = dev.kcluster.WatcherConfig("com.example.Main")
            c.args.shouldBeEmpty()
            c.socketMode shouldBe SocketMode.SHARED
            c.readyPolicy shouldBe ReadyPolicy.LISTEN
            c.stopTimeout shouldBe Duration.ofSeconds(10)
            c.maxRestarts shouldBe 5
            c.environment shouldBe emptyMap()
            c.workingDirectory.shouldBeNull()
            c.javaCommand shouldBe defaults.javaCommand
            c.startTimeout shouldBe defaults.startTimeout
            c.heartbeatInterval shouldBe defaults.heartbeatInterval
            c.maxBackoff shouldBe defaults.maxBackoff
            c.maxFrameSize shouldBe defaults.maxFrameSize
        }

        test("every option reaches the run options and the watcher config") {
            val dir = Files.createDirectories(tmp.resolve("classes"))
            val jar = Files.writeString(tmp.resolve("lib.jar"), "")
            val (o, r) =
                parse(
                    "-w",
                    "3",
                    "-cp",
                    "$dir:$jar",
                    "--classpath",
                    tmp.toString(),
                    "--jvm-opt=-Xmx64m",
                    "--jvm-opt",
                    "-Dx=1",
                    "-p",
                    tmp.resolve("c.pid").toString(),
                    "-l",
                    "DEBUG",
                    "--log-format",
                    "json",
                    "-f",
                    tmp.resolve("c.log").toString(),
                    "--stop-timeout",
                    "3s",
                    "--ready-timeout",
                    "2m",
                    "--heartbeat-timeout",
                    "1m30s",
                    "--max-restarts",
                    "7",
                    "--restart-window",
                    "500ms",
                    "--watch",
                    dir.toString(),
                    "--watch",
                    jar.toString(),
                    "--socket-mode",
                    "reuseport",
                    "--ready-when",
                    "explicit",
                    "--env",
                    "A=1",
                    "-e",
                    "B=x=y",
                    "--env=C=",
                    "--chdir",
                    dir.toString(),
                    "--java",
                    javaBin,
                    "--start-timeout",
                    "45s",
                    "--heartbeat-interval",
                    "2s",
                    "--max-backoff",
                    "1m",
                    "--max-frame-size",
                    "1048576",
                    "com.example.Main",
                    "arg1",
                )
            r.statusCode shouldBe 0
            o.shouldNotBeNull()
            o.workers shouldBe 3
            o.pidFile shouldBe tmp.resolve("c.pid")
            o.logLevel shouldBe "debug"
            o.logJson shouldBe true
            o.logFile shouldBe tmp.resolve("c.log")
            o.watch shouldContainExactly listOf(dir, jar)
            val c = o.config
            c.target shouldBe "com.example.Main"
            c.args shouldContainExactly listOf("arg1")
            c.stopTimeout shouldBe Duration.ofSeconds(3)
            c.readyTimeout shouldBe Duration.ofMinutes(2)
            c.heartbeatTimeout shouldBe Duration.ofSeconds(90)
            c.maxRestarts shouldBe 7
            c.restartWindow shouldBe Duration.ofMillis(500)
            c.classpath shouldContainExactly listOf(dir.toString(), jar.toString(), tmp.toString())
            c.jvmOptions shouldContainExactly listOf("-Xmx64m", "-Dx=1")
            c.socketMode shouldBe SocketMode.REUSE_PORT
            c.readyPolicy shouldBe ReadyPolicy.EXPLICIT
            c.environment shouldBe mapOf("A" to "1", "B" to "x=y", "C" to "")
            c.workingDirectory shouldBe dir
            c.javaCommand shouldBe javaBin
            c.startTimeout shouldBe Duration.ofSeconds(45)
            c.heartbeatInterval shouldBe Duration.ofSeconds(2)
            c.maxBackoff shouldBe Duration.ofMinutes(1)
            c.maxFrameSize shouldBe 1_048_576
        }

        test("the recycling, standby and message-buffer flags reach the watcher config") {
            val (o, r) =
                parse(
                    "--standby",
                    "2",
                    "--max-requests",
                    "500",
                    "--max-requests-jitter",
                    "50",
                    "--max-memory",
                    "300MiB",
                    "--max-rss",
                    "1g",
                    "--message-buffer",
                    "10",
                    "a.B",
                )
            r.statusCode shouldBe 0
            val c = o!!.config
            c.standby shouldBe 2
            c.maxRequests shouldBe 500
            c.maxRequestsJitter shouldBe 50
            c.maxMemory shouldBe (300L shl 20)
            c.maxRss shouldBe (1L shl 30)
            c.messageBufferCount shouldBe 10
            c.messageBufferBytes shouldBe dev.kcluster.WatcherConfig("a.B").messageBufferBytes
            val defaults = parse("a.B").first!!.config
            listOf(defaults.standby, defaults.maxRequests, defaults.maxMemory, defaults.maxRss) shouldBe listOf(0, 0L, 0L, 0L)
            defaults.messageBufferCount shouldBe 10_000
        }

        test("the bare form is the run subcommand") {
            val dir = Files.createDirectories(tmp.resolve("bare"))
            listOf(
                    listOf("com.example.Main"),
                    listOf(
                        "-w",
                        "2",
                        "--env",
                        "A=1",
                        "--chdir",
                        dir.toString(),
                        "--heartbeat-interval",
                        "3s",
                        "--heartbeat-timeout",
                        "9s",
                        "app.jar",
                        "x",
                    ),
                    listOf(
                        "--log-level=debug",
                        "-p",
                        tmp.resolve("b.pid").toString(),
                        "--start-timeout",
                        "5s",
                        "a.B",
                        "--port",
                        "1",
                        "run",
                    ),
                    listOf("-w", "1", "--", "a.B", "status"),
                )
                .forEach { argv ->
                    withClue(argv) {
                        val (bare, r1) = parse(*argv.toTypedArray())
                        val (run, r2) = parse("run", *argv.toTypedArray())
                        r1.statusCode shouldBe 0
                        r2.statusCode shouldBe 0
                        describe(bare!!) shouldBe describe(run!!)
                    }
                }
            withRun(arrayOf("-w", "2", "app.jar")).toList() shouldContainExactly listOf("run", "-w", "2", "app.jar")
            withRun(arrayOf("run", "app.jar")).toList() shouldContainExactly listOf("run", "app.jar")
            withRun(arrayOf("--workers", "3", "-cp", "x", "a.B")).first() shouldBe "run"
            withRun(arrayOf("-w2", "a.B")).first() shouldBe "run"
        }

        test("a subcommand's name as the first word selects it; --help and no words stay with the top level") {
            withRun(arrayOf("status", "-p", "x")).toList() shouldContainExactly listOf("status", "-p", "x")
            withRun(arrayOf("scale", "3", "-p", "x")).first() shouldBe "scale"
            withRun(arrayOf("--help")).toList() shouldContainExactly listOf("--help")
            withRun(emptyArray()).toList() shouldBe emptyList()
            // The first word that is not an option or its value names the subcommand, wherever it is.
            withRun(arrayOf("-p", "x", "status", "--json")).toList() shouldContainExactly listOf("status", "-p", "x", "--json")
            withRun(arrayOf("-w", "2", "run", "a.B")).toList() shouldContainExactly listOf("run", "-w", "2", "a.B")
            parse("-w", "2", "reload").second.stderr shouldContain "Error: no such option -w"
            execute(ClusterCommand(runner = { 0 }), withRun(arrayOf("-w", "2", "reload"))) shouldBe EXIT_USAGE
            // Options without a TARGET are run's.
            parse("-w", "2").second.stderr shouldContain "missing argument <target>"
            execute(ClusterCommand(runner = { 0 }), withRun(emptyArray())) shouldBe EXIT_USAGE
        }

        test("invalid settings exit 2 with one line naming the flag") {
            val dir = tmp.toString()
            listOf(
                    listOf("--heartbeat-interval", "20s") to
                        "Error: --heartbeat-timeout (15s) must be longer than --heartbeat-interval (20s)",
                    listOf("--heartbeat-timeout", "1s") to "Error: --heartbeat-timeout (1s) must be longer than --heartbeat-interval (1s)",
                    listOf("--max-frame-size", "1000") to "Error: --max-frame-size must be at least 64 KiB, was 1000",
                    listOf("--max-frame-size", "big") to "Error: invalid value for --max-frame-size: big is not a valid integer",
                    listOf("--env", "NOVALUE") to "Error: invalid value for --env: expected K=V, got 'NOVALUE'",
                    listOf("-e", "=1") to "Error: invalid value for -e: expected K=V, got '=1'",
                    listOf("--chdir", "/does/not/exist") to
                        "Error: invalid value for --chdir: directory \"/does/not/exist\" does not exist.",
                    listOf("--java", dir) to "Error: invalid value for --java: '$dir' is not an executable java (or a JDK directory)",
                    listOf("--start-timeout", "0s") to "Error: invalid value for --start-timeout: duration '0s' must be longer than zero",
                    listOf("--max-backoff", "soon") to
                        "Error: invalid value for --max-backoff: invalid duration 'soon' (use e.g. 500ms, 10s, 2m, 1h or 1m30s)",
                    listOf("--max-memory", "1.5g") to
                        "Error: invalid value for --max-memory: invalid size '1.5g' (use e.g. 512m, 1g or 300MiB)",
                    listOf("--max-rss", "0") to "Error: invalid value for --max-rss: size '0' must be larger than zero",
                    listOf("--standby", "-1") to "Error: invalid value for --standby: -1 is not in the valid range of 0 to 1024.",
                    listOf("--max-requests", "many") to "Error: invalid value for --max-requests: many is not a valid integer",
                    listOf("--message-buffer", "0") to
                        "Error: invalid value for --message-buffer: 0 is smaller than the minimum valid value of 1.",
                )
                .forEach { (argv, line) ->
                    withClue(argv) { usageError(*(argv + "com.example.Main").toTypedArray()) shouldBe (line to EXIT_USAGE) }
                }
            usageError("run", " ") shouldBe ("Error: TARGET must not be blank" to EXIT_USAGE)
        }

        test("everything after TARGET goes to the workers unchanged, options included") {
            val (o, r) = parse("-w", "2", "com.example.Main", "--port", "8080", "-w", "9", "--help", "--", "x")
            r.statusCode shouldBe 0
            o!!.workers shouldBe 2
            o.config.args shouldContainExactly listOf("--port", "8080", "-w", "9", "--help", "--", "x")
        }

        test("--max-restarts alone keeps the default window, and the other way round") {
            parse("--max-restarts", "0", "a.B").first!!.config.restartWindow shouldBe Duration.ofSeconds(60)
            parse("--restart-window", "2m", "a.B").first!!.config.maxRestarts shouldBe 5
        }

        test("the runner's exit code becomes the command's") { parse("a.B", exit = 1).second.statusCode shouldBe 1 }

        test("unknown options are usage errors, never the TARGET") {
            val (o, r) = parse("--bogus", "com.example.Main")
            o.shouldBeNull()
            r.statusCode shouldNotBe 0
            r.stderr shouldContain "no such option --bogus"
        }

        test("bad values are usage errors naming the option") {
            data class Case(val argv: List<String>, val message: String)
            listOf(
                    Case(listOf("-w", "0"), "-w"),
                    Case(listOf("-w", "many"), "many is not a valid integer"),
                    Case(listOf("--stop-timeout", "10"), "invalid duration '10'"),
                    Case(listOf("--ready-timeout", "5x"), "invalid duration '5x'"),
                    Case(listOf("--restart-window", "0s"), "must be longer than zero"),
                    Case(listOf("--max-restarts", "-1"), "--max-restarts"),
                    Case(listOf("-l", "loud"), "invalid choice: loud"),
                    Case(listOf("--log-format", "xml"), "invalid choice: xml"),
                    Case(listOf("--socket-mode", "magic"), "invalid choice: magic"),
                    Case(listOf("--ready-when", "never"), "invalid choice: never"),
                    Case(listOf("-cp", "/does/not/exist"), "'/does/not/exist' does not exist"),
                    Case(listOf("--watch", "/does/not/exist"), "/does/not/exist"),
                    Case(listOf("-p", "/does/not/exist/c.pid"), "directory /does/not/exist does not exist"),
                    Case(listOf("-f", "/does/not/exist/c.log"), "directory /does/not/exist does not exist"),
                    Case(listOf("-p", tmp.toString()), "is a directory"),
                )
                .forEach { (argv, message) ->
                    val (o, r) = parse(*(argv + "com.example.Main").toTypedArray())
                    r.stderr.lines().count { it.startsWith("Error:") } shouldBe 1
                    withClue(argv) {
                        o.shouldBeNull()
                        r.statusCode shouldNotBe 0
                        r.stderr shouldContain message
                    }
                }
        }

        test("a missing TARGET is a usage error") {
            val (o, r) = parse("-w", "2")
            o.shouldBeNull()
            r.stderr shouldContain "missing argument <target>"
        }

        test("--max-restarts alone keeps the default window, and the other way round, in the run form too") {
            parse("run", "--max-restarts", "0", "a.B").first!!.config.restartWindow shouldBe Duration.ofSeconds(60)
        }

        test("usage errors exit with 2") {
            fun exit(vararg argv: String, runner: Int = 0) = execute(ClusterCommand(runner = { runner }), withRun(arrayOf(*argv)))
            exit("--bogus") shouldBe EXIT_USAGE
            exit("-w", "x", "a.B") shouldBe EXIT_USAGE
            exit("run", "-w", "x", "a.B") shouldBe EXIT_USAGE
            exit("a.B") shouldBe 0
            exit("a.B", runner = 4) shouldBe 4
            exit("run", "a.B", runner = 4) shouldBe 4
        }

        test("help lists every option, the control commands, signals and exit codes") {
            val r = ClusterCommand(runner = { 0 }).test("run --help")
            r.statusCode shouldBe 0
            listOf(
                    "Usage: cluster run",
                    "--workers",
                    "--classpath",
                    "--jvm-opt",
                    "--pid-file",
                    "--log-level",
                    "--log-format",
                    "--log-file",
                    "--env",
                    "--chdir",
                    "--java",
                    "--start-timeout",
                    "--stop-timeout",
                    "--ready-timeout",
                    "--heartbeat-interval",
                    "--heartbeat-timeout",
                    "--max-restarts",
                    "--restart-window",
                    "--max-backoff",
                    "--max-frame-size",
                    "--watch",
                    "--socket-mode",
                    "--ready-when",
                    "--standby",
                    "--max-requests",
                    "--max-requests-jitter",
                    "--max-memory",
                    "--max-rss",
                    "--message-buffer",
                    "--config",
                    "cluster restart-worker",
                    "cluster kill-worker",
                    "cluster status",
                    "cluster reload",
                    "cluster stop",
                    "cluster scale",
                    "HUP",
                    "USR1",
                    "TTIN",
                    "USR2",
                    "Exit codes",
                )
                .forEach { r.output shouldContain it }
            r.output shouldNotContain "Error"
        }

        test("the top-level help lists run, status, reload, stop and scale") {
            val r = ClusterCommand(runner = { 0 }).test(withRun(arrayOf("--help")).toList())
            r.statusCode shouldBe 0
            val commands =
                Regex("""^  ([\w-]+) {2,}\S""", RegexOption.MULTILINE)
                    .findAll(r.output.substringAfter("Commands:"))
                    .map { it.groupValues[1] }
                    .toList()
            commands shouldContainExactly listOf("run", "status", "top", "reload", "stop", "scale", "restart-worker", "kill-worker")
            r.output shouldContain "cluster [OPTIONS] TARGET [ARGS]"
            r.output shouldContain "USR1 reopens the log file"
        }
    })

private inline fun withClue(clue: Any, block: () -> Unit) = io.kotest.assertions.withClue(clue, block)
