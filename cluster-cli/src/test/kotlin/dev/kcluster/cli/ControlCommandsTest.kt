package dev.kcluster.cli

import com.github.ajalt.clikt.testing.test
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Path

class ControlCommandsTest : FunSpec({
    val status = ClusterStatus(
        watcherPid = 100, target = "com.example.Main",
        workers = listOf(
            WorkerStatus(1, 201, "READY", 65_000, 0, 50L * 1024 * 1024),
            WorkerStatus(2, 202, "STARTING", 900, 3, null),
        ),
    )

    /** A transport that records requests and answers with [answer]. */
    class Fake(val answer: (ControlRequest) -> ControlResponse) : ControlTransport {
        val calls = mutableListOf<Pair<Path, ControlRequest>>()
        override fun call(pidFile: Path, request: ControlRequest): ControlResponse {
            calls += pidFile to request
            return answer(request)
        }
    }

    test("status prints a table with id, pid, state, uptime, restarts and RSS") {
        val fake = Fake { ControlResponse(ok = true, status = status) }
        val r = ClusterCommand(transport = fake).test("status -p /tmp/c.pid")
        r.statusCode shouldBe 0
        fake.calls shouldContainExactly listOf(Path.of("/tmp/c.pid") to ControlRequest("status"))
        val lines = r.stdout.lines()
        lines[0] shouldContain "cluster pid 100"
        lines[1].split(Regex("\\s+")) shouldContainExactly listOf("ID", "PID", "STATE", "UPTIME", "RESTARTS", "RSS")
        lines[2].split(Regex("\\s+")) shouldContainExactly listOf("1", "201", "READY", "1m5s", "0", "50.0", "MiB")
        lines[3].split(Regex("\\s+")) shouldContainExactly listOf("2", "202", "STARTING", "900ms", "3", "-")
    }

    test("status --json prints the status as one JSON object") {
        val r = ClusterCommand(transport = Fake { ControlResponse(ok = true, status = status) }).test("status --pid-file c.pid --json")
        r.statusCode shouldBe 0
        r.stdout.trim().lines().size shouldBe 1
        ControlProtocol.json.decodeFromString(ClusterStatus.serializer(), r.stdout) shouldBe status
    }

    test("reload exits 0 after a full rolling restart") {
        val r = ClusterCommand(transport = Fake { ControlResponse(ok = true, replaced = 2, rolledBack = false) }).test("reload -p c.pid")
        r.statusCode shouldBe 0
        r.stdout shouldContain "2 workers replaced"
    }

    test("reload exits 3 with the reason on stderr when it rolled back") {
        val fake = Fake { ControlResponse(ok = false, replaced = 1, rolledBack = true, error = "replacement worker 4 failed: boom") }
        val r = ClusterCommand(transport = fake).test("reload -p c.pid")
        r.statusCode shouldBe 3
        r.stderr shouldContain "replacement worker 4 failed: boom"
        r.stdout.shouldBeEmptyString()
    }

    test("scale sends the new size and rejects sizes below 1") {
        val fake = Fake { req -> ControlResponse(ok = true, status = status.copy(workers = status.workers.take(req.workers!!))) }
        ClusterCommand(transport = fake).test("scale 2 -p c.pid").statusCode shouldBe 0
        fake.calls.single().second shouldBe ControlRequest("scale", 2)
        val bad = ClusterCommand(transport = fake).test("scale 0 -p c.pid")
        bad.statusCode shouldNotBe 0
        bad.stderr shouldContain "0 is smaller than the minimum valid value of 1"
        ClusterCommand(transport = fake).test("scale x -p c.pid").stderr shouldContain "x is not a valid integer"
        fake.calls.size shouldBe 1
    }

    test("a refused request exits 1 with the watcher's reason") {
        val refusing = Fake { ControlResponse(ok = false, error = "cannot scale a watcher that is not running") }
        val r = ClusterCommand(transport = refusing).test("scale 3 -p c.pid")
        r.statusCode shouldBe 1
        r.stderr shouldContain "cannot scale a watcher that is not running"
    }

    test("stop asks the watcher to stop and returns once it is gone") {
        // A pid that has exited already: stop must not wait.
        val gone = ProcessBuilder("true").start().also { it.waitFor() }.pid()
        val fake = Fake { ControlResponse(ok = true, watcherPid = gone) }
        val r = ClusterCommand(transport = fake).test("stop -p c.pid --timeout 5s")
        r.statusCode shouldBe 0
        fake.calls.single().second shouldBe ControlRequest("stop")
    }

    test("every control command requires --pid-file and no transport error goes unreported") {
        for (cmd in listOf("status", "reload", "stop", "scale 2")) {
            val r = ClusterCommand(transport = Fake { error("not called") }).test(cmd)
            r.statusCode shouldNotBe 0
            r.stderr shouldContain "missing option --pid-file"
        }
        val r = ClusterCommand(transport = { _, _ -> throw ControlException("no cluster is running with pid file x") }).test("status -p x")
        r.statusCode shouldBe 1
        r.stderr shouldStartWith "cluster status: no cluster is running"
    }

    test("usage errors of control commands exit with 2") {
        execute(ClusterCommand(transport = Fake { error("not called") }), arrayOf("status")) shouldBe EXIT_USAGE
        execute(ClusterCommand(transport = Fake { error("not called") }), arrayOf("status", "-p", "x", "--bogus")) shouldBe EXIT_USAGE
    }

    test("help describes each control command") {
        val r = ClusterCommand(transport = Fake { error("not called") }).test("--help")
        listOf("status", "reload", "stop", "scale").forEach { r.output shouldContain it }
        val reloadHelp = ClusterCommand(transport = Fake { error("not called") }).test("reload --help").output
        reloadHelp.replace(Regex("\\s+"), " ") shouldContain "3 when a replacement failed"
        ClusterCommand(transport = Fake { error("not called") }).test("status --help").output shouldContain "--json"
        ClusterCommand(transport = Fake { error("not called") }).test("status --help").output shouldContain "Usage: cluster status"
    }
})

private fun String.shouldBeEmptyString() = this shouldBe ""

