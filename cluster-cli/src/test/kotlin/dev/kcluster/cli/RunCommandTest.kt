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

class RunCommandTest : FunSpec({
    val tmp = Files.createTempDirectory("kcluster-cli-parse")
    afterSpec { tmp.toFile().deleteRecursively() }

    /** Parses [argv] with a runner that only records what it was asked to run. */
    fun parse(vararg argv: String, exit: Int = 0): Pair<RunOptions?, com.github.ajalt.clikt.testing.CliktCommandTestResult> {
        var seen: RunOptions? = null
        val result = RunCommand { seen = it; exit }.test(argv.toList())
        return seen to result
    }

    test("TARGET alone uses the defaults") {
        val (o, r) = parse("com.example.Main")
        r.statusCode shouldBe 0
        o.shouldNotBeNull()
        o.target shouldBe "com.example.Main"
        o.args.shouldBeEmpty()
        o.workers shouldBe Runtime.getRuntime().availableProcessors()
        o.logLevel shouldBe "info"
        o.logJson shouldBe false
        o.pidFile.shouldBeNull()
        o.socketMode shouldBe SocketMode.SHARED
        o.readyPolicy shouldBe ReadyPolicy.LISTEN
        val c = o.toWatcherConfig()
        c.stopTimeout shouldBe Duration.ofSeconds(10)
        c.maxRestarts shouldBe 5
    }

    test("every option reaches the run options and the watcher config") {
        val dir = Files.createDirectories(tmp.resolve("classes"))
        val jar = Files.writeString(tmp.resolve("lib.jar"), "")
        val (o, r) = parse(
            "-w", "3", "-cp", "$dir:$jar", "--classpath", tmp.toString(), "--jvm-opt=-Xmx64m", "--jvm-opt", "-Dx=1",
            "-p", tmp.resolve("c.pid").toString(), "-l", "DEBUG", "--log-format", "json", "-f", tmp.resolve("c.log").toString(),
            "--stop-timeout", "3s", "--ready-timeout", "2m", "--heartbeat-timeout", "1m30s",
            "--max-restarts", "7", "--restart-window", "500ms", "--watch", dir.toString(), "--watch", jar.toString(),
            "--socket-mode", "reuseport", "--ready-when", "explicit", "com.example.Main",
        )
        r.statusCode shouldBe 0
        o.shouldNotBeNull()
        o.workers shouldBe 3
        o.classpath shouldContainExactly listOf(dir.toString(), jar.toString(), tmp.toString())
        o.jvmOptions shouldContainExactly listOf("-Xmx64m", "-Dx=1")
        o.pidFile shouldBe tmp.resolve("c.pid")
        o.logLevel shouldBe "debug"
        o.logJson shouldBe true
        o.logFile shouldBe tmp.resolve("c.log")
        o.watch shouldContainExactly listOf(dir, jar)
        o.socketMode shouldBe SocketMode.REUSE_PORT
        o.readyPolicy shouldBe ReadyPolicy.EXPLICIT
        val c = o.toWatcherConfig()
        c.stopTimeout shouldBe Duration.ofSeconds(3)
        c.readyTimeout shouldBe Duration.ofMinutes(2)
        c.heartbeatTimeout shouldBe Duration.ofSeconds(90)
        c.maxRestarts shouldBe 7
        c.restartWindow shouldBe Duration.ofMillis(500)
        c.classpath shouldContainExactly listOf(dir.toString(), jar.toString(), tmp.toString())
        c.jvmOptions shouldContainExactly listOf("-Xmx64m", "-Dx=1")
        c.socketMode shouldBe SocketMode.REUSE_PORT
        c.readyPolicy shouldBe ReadyPolicy.EXPLICIT
    }

    test("everything after TARGET goes to the workers unchanged, options included") {
        val (o, r) = parse("-w", "2", "com.example.Main", "--port", "8080", "-w", "9", "--help", "--", "x")
        r.statusCode shouldBe 0
        o!!.workers shouldBe 2
        o.args shouldContainExactly listOf("--port", "8080", "-w", "9", "--help", "--", "x")
    }

    test("--max-restarts alone keeps the default window, and the other way round") {
        parse("--max-restarts", "0", "a.B").first!!.toWatcherConfig().restartWindow shouldBe Duration.ofSeconds(60)
        parse("--restart-window", "2m", "a.B").first!!.toWatcherConfig().maxRestarts shouldBe 5
    }

    test("the runner's exit code becomes the command's") {
        parse("a.B", exit = 1).second.statusCode shouldBe 1
    }

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
            Case(listOf("--heartbeat-timeout", "1s"), "--heartbeat-timeout (1s) must be longer than the heartbeat interval (1s)"),
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
        ).forEach { (argv, message) ->
            val (o, r) = parse(*(argv + "com.example.Main").toTypedArray())
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

    test("usage errors exit with 2") {
        val cmd = RunCommand { 0 }
        execute(cmd, arrayOf("--bogus")) shouldBe EXIT_USAGE
        execute(RunCommand { 0 }, arrayOf("-w", "x", "a.B")) shouldBe EXIT_USAGE
        execute(RunCommand { 0 }, arrayOf("a.B")) shouldBe 0
        execute(RunCommand { 4 }, arrayOf("a.B")) shouldBe 4
    }

    test("help lists every option, the control commands, signals and exit codes") {
        val r = RunCommand { 0 }.test("--help")
        r.statusCode shouldBe 0
        listOf(
            "--workers", "--classpath", "--jvm-opt", "--pid-file", "--log-level", "--log-format", "--log-file", "--stop-timeout",
            "--ready-timeout", "--heartbeat-timeout", "--max-restarts", "--restart-window", "--watch", "--socket-mode", "--ready-when",
            "cluster status", "cluster reload", "cluster stop", "cluster scale", "HUP", "TTIN", "USR2", "Exit codes",
        ).forEach { r.output shouldContain it }
        r.output shouldNotContain "Error"
    }

    test("the first word picks the control commands, anything else runs a cluster") {
        (commandFor(arrayOf("status", "-p", "x")) is ControlCli) shouldBe true
        (commandFor(arrayOf("com.example.Main")) is RunCommand) shouldBe true
        (commandFor(arrayOf("-w", "2", "status")) is RunCommand) shouldBe true
        (commandFor(emptyArray()) is RunCommand) shouldBe true
    }
})

private inline fun withClue(clue: Any, block: () -> Unit) = io.kotest.assertions.withClue(clue, block)
