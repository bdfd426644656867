package dev.kcluster.cli

import com.github.ajalt.clikt.testing.test
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Path

class ControlCommandsTest :
    FunSpec({
        val status =
            ClusterStatus(
                watcherPid = 100,
                target = "com.example.Main",
                workers =
                    listOf(
                        WorkerStatus(
                            1,
                            201,
                            "READY",
                            65_000,
                            0,
                            50L * 1024 * 1024,
                            slot = 1,
                            heapBytes = 8L shl 20,
                            connections = 3,
                            requests = 120,
                        ),
                        WorkerStatus(4, 202, "STARTING", 900, 3, null, slot = 2, lastExit = "exit code 0: recycled: requests"),
                        WorkerStatus(3, 203, "STANDBY", 1_000, 0, 40L * 1024 * 1024, slot = 0),
                        // A standby still starting: slot 0, and the standbys' last exit.
                        WorkerStatus(5, 204, "STARTING", 300, 0, 30L * 1024 * 1024, slot = 0, lastExit = "exit code 0"),
                    ),
                socketMode = "shared",
                listening = listOf("127.0.0.1:8080"),
                droppedMessages = 7,
            )

        /** A transport that records requests and answers with [answer]. */
        class Fake(val answer: (ControlRequest) -> ControlResponse) : ControlTransport {
            val calls = mutableListOf<Pair<Path, ControlRequest>>()

            override fun call(pidFile: Path, request: ControlRequest): ControlResponse {
                calls += pidFile to request
                return answer(request)
            }
        }

        test("status prints the listeners, the dropped messages and a table per slot with load and last exit") {
            val fake = Fake { ControlResponse(ok = true, status = status) }
            val r = ClusterCommand(transport = fake).test("status -p /tmp/c.pid")
            r.statusCode shouldBe 0
            fake.calls shouldContainExactly listOf(Path.of("/tmp/c.pid") to ControlRequest("status"))
            val lines = r.stdout.lines()
            lines[0] shouldBe "cluster pid 100, target com.example.Main, 2 workers, 2 standbys, socket mode shared"
            lines[1] shouldBe "listening: 127.0.0.1:8080"
            lines[2] shouldBe "dropped messages from workers: 7 (nothing consumes them under the cluster command)"
            lines[3].split(Regex("\\s{2,}")) shouldContainExactly
                listOf("SLOT", "ID", "PID", "STATE", "UPTIME", "RESTARTS", "RSS", "HEAP", "CONNS", "REQUESTS", "LAST EXIT")
            lines[4].split(Regex("\\s{2,}")) shouldContainExactly
                listOf("1", "1", "201", "READY", "1m5s", "0", "50.0 MiB", "8.0 MiB", "3", "120", "-")
            lines[5].split(Regex("\\s{2,}")) shouldContainExactly
                listOf("2", "4", "202", "STARTING", "900ms", "3", "-", "-", "-", "-", "exit code 0: recycled: requests")
            lines[6].split(Regex("\\s{2,}")) shouldContainExactly
                listOf("-", "3", "203", "STANDBY", "1s", "0", "40.0 MiB", "-", "-", "-", "-")
            lines[7].split(Regex("\\s{2,}")) shouldContainExactly
                listOf("-", "5", "204", "STARTING", "300ms", "0", "30.0 MiB", "-", "-", "-", "exit code 0")
        }

        test("status --json prints the status as one JSON object") {
            val r = ClusterCommand(transport = Fake { ControlResponse(ok = true, status = status) }).test("status --pid-file c.pid --json")
            r.statusCode shouldBe 0
            r.stdout.trim().lines().size shouldBe 1
            ControlProtocol.json.decodeFromString(ClusterStatus.serializer(), r.stdout) shouldBe status
        }

        test("reload exits 0 after a full rolling restart") {
            val r =
                ClusterCommand(transport = Fake { ControlResponse(ok = true, replaced = 2, rolledBack = false) }).test("reload -p c.pid")
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
            // The answer lists slots 1 and 2 and the two standbys (slot 0): the new size is 2.
            val fake = Fake { ControlResponse(ok = true, status = status) }
            val ok = ClusterCommand(transport = fake).test("scale 2 -p c.pid")
            ok.statusCode shouldBe 0
            ok.stdout.trim() shouldBe "scaled to 2 workers"
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

        test("restart-worker prints the successor, exits 3 on rollback; kill-worker sends the id; unknown ids are errors") {
            val fake = Fake { req ->
                when {
                    req.worker == 9 -> ControlResponse(ok = false, error = "no worker with id 9 (workers: 1, 2)")
                    req.command == "kill-worker" ->
                        ControlResponse(ok = true, detail = "worker 2 (pid 202) killed with SIGKILL; the watcher respawns it")
                    req.worker == 1 -> ControlResponse(ok = true, replaced = 1, detail = "worker 1 replaced by worker 3 (pid 301)")
                    else ->
                        ControlResponse(
                            ok = false,
                            rolledBack = true,
                            replaced = 0,
                            error = "replacement worker 4 for worker 2 failed: boom",
                        )
                }
            }
            val ok = ClusterCommand(transport = fake).test("restart-worker 1 -p c.pid")
            ok.statusCode shouldBe 0
            ok.stdout.trim() shouldBe "worker 1 replaced by worker 3 (pid 301)"
            val back = ClusterCommand(transport = fake).test("restart-worker 2 -p c.pid")
            back.statusCode shouldBe 3
            back.stderr.trim() shouldBe "cluster restart-worker: rolled back: replacement worker 4 for worker 2 failed: boom"
            val kill = ClusterCommand(transport = fake).test("kill-worker 2 -p c.pid")
            kill.statusCode shouldBe 0
            kill.stdout.trim() shouldBe "worker 2 (pid 202) killed with SIGKILL; the watcher respawns it"
            val unknown = ClusterCommand(transport = fake).test("kill-worker 9 -p c.pid")
            unknown.statusCode shouldBe 1
            unknown.stderr.trim() shouldBe "cluster kill-worker: no worker with id 9 (workers: 1, 2)"
            fake.calls.map { it.second } shouldContainExactly
                listOf(
                    ControlRequest("restart-worker", worker = 1),
                    ControlRequest("restart-worker", worker = 2),
                    ControlRequest("kill-worker", worker = 2),
                    ControlRequest("kill-worker", worker = 9),
                )
            ClusterCommand(transport = fake).test("kill-worker x -p c.pid").stderr shouldContain "x is not a valid integer"
        }

        test("every control command requires --pid-file and no transport error goes unreported") {
            for (cmd in listOf("status", "reload", "stop", "scale 2", "restart-worker 1", "kill-worker 1")) {
                val r = ClusterCommand(transport = Fake { error("not called") }).test(cmd)
                r.statusCode shouldNotBe 0
                r.stderr shouldContain "missing option --pid-file"
            }
            val r =
                ClusterCommand(transport = { _, _ -> throw ControlException("no cluster is running with pid file x") }).test("status -p x")
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
