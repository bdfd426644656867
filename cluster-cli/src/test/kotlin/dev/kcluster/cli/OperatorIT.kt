package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import dev.kcluster.cli.testing.alive
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.awaitValue
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

/** End-to-end, through the fat jar: per-worker control, the status fields, dropped messages, the config file and its reload. */
class OperatorIT :
    FunSpec({
        val h = CliHarness()
        afterSpec { h.cleanUp() }
        val target = TestServer::class.java.name
        val base = arrayOf("-cp", h.testClasses) + h.workerJvm
        fun text(p: Path) = if (Files.exists(p)) Files.readString(p) else ""
        fun ClusterStatus.serving() = workers.filter { it.state == "READY" }

        test("restart-worker replaces only that worker, kill-worker respawns it, status shows slots, last exits and listeners") {
            val pid = h.dir.resolve("w.pid")
            val log = h.dir.resolve("w.log")
            val w = h.start("-w", "3", "-p", "$pid", "-f", "$log", *base, target)
            withClue({ "log:\n${text(log)}\n$w" }) {
                awaitUntil("cluster ready", 60_000) { text(log).contains("cluster ready: 3 workers") || !w.process.isAlive }
                val s0 = h.status(pid)
                s0.serving() shouldHaveSize 3
                s0.workers.map { it.slot } shouldContainExactlyInAnyOrder listOf(1, 2, 3)
                s0.socketMode shouldBe "shared"
                s0.listening shouldHaveSize 1
                s0.listening.single() shouldStartWith "127.0.0.1:"
                s0.droppedMessages shouldBe 0
                s0.workers.forEach {
                    it.lastExit shouldBe null
                    it.requests shouldBe 0
                    it.connections shouldBe 0
                }
                val victim = s0.workers.first { it.slot == 2 }
                val others = s0.workers.filter { it.slot != 2 }.map { it.pid }.toSet()

                val r = h.run("restart-worker", "${victim.id}", "-p", "$pid")
                withClue(r) { r.code shouldBe 0 }
                r.stdout shouldContain "worker ${victim.id} replaced by worker "
                val s1 = h.status(pid)
                s1.serving() shouldHaveSize 3
                s1.workers.filter { it.slot != 2 }.map { it.pid }.toSet() shouldBe others
                val successor = s1.workers.single { it.slot == 2 }
                successor.pid shouldNotBe victim.pid
                successor.restarts shouldBe victim.restarts + 1
                awaitUntil("old worker gone", 10_000) { !alive(victim.pid) }
                awaitValue("slot 2's last exit", 60_000) { h.status(pid).workers.single { it.slot == 2 }.lastExit }

                val k = h.run("kill-worker", "${successor.id}", "-p", "$pid")
                withClue(k) { k.code shouldBe 0 }
                k.stdout shouldContain "worker ${successor.id} (pid ${successor.pid}) killed with SIGKILL"
                val s2 =
                    awaitValue("slot 2 respawned", 60_000) {
                        h.status(pid).takeIf { s -> s.serving().size == 3 && s.workers.none { it.pid == successor.pid } }
                    }
                s2.workers.single { it.slot == 2 }.lastExit shouldBe "killed by signal 9 (SIGKILL)"
                s2.workers.filter { it.slot != 2 }.map { it.pid }.toSet() shouldBe others
                h.run("status", "-p", "$pid").stdout shouldContain "killed by signal 9 (SIGKILL)"

                val unknown = h.run("restart-worker", "999", "-p", "$pid")
                unknown.code shouldBe 1
                unknown.stderr.trim() shouldBe
                    "cluster restart-worker: no worker with id 999 (workers: ${s2.workers.map { it.id }.sorted().joinToString(", ")})"
                h.run("stop", "-p", "$pid").code shouldBe 0
                w.awaitExit(30) shouldBe 0
            }
        }

        test("messages nobody consumes are dropped with one warning and counted in status; watcher memory stays bounded") {
            val pid = h.dir.resolve("m.pid")
            val log = h.dir.resolve("m.log")
            val w = h.start("-w", "1", "-p", "$pid", "-f", "$log", "--message-buffer", "1000", *base, target, "flood", "20000")
            withClue({ "log:\n${text(log).take(20_000)}\n$w" }) {
                awaitUntil("flood sent", 60_000) { text(log).contains("worker 1 sent 20000 messages") || !w.process.isAlive }
                val s = awaitValue("all dropped messages counted", 60_000) { h.status(pid).takeIf { it.droppedMessages >= 19_000 } }
                s.droppedMessages shouldBe 19_000
                text(log).lines().count { it.contains("dropping messages from workers") } shouldBe 1
                text(log) shouldContain "dropping messages from workers: nothing consumes them"
                h.run("status", "-p", "$pid").stdout shouldContain "dropped messages from workers: 19000"
                val rss = StatusTable.rssBytes(w.pid)!!
                rss shouldBeGreaterThan 0
                println("OperatorIT: watcher RSS after 20,000 unconsumed messages (buffer 1000): ${StatusTable.bytes(rss)}")
                h.run("stop", "-p", "$pid").code shouldBe 0
                w.awaitExit(30) shouldBe 0
            }
        }

        test("--config runs from a HOCON file, and reload gives new workers the edited jvm-options and env") {
            val pid = h.dir.resolve("k.pid")
            val log = h.dir.resolve("k.log")
            val conf = h.dir.resolve("cluster.conf")
            fun write(value: String, workers: Int) =
                Files.writeString(
                    conf,
                    """
            target = $target
            workers = $workers
            classpath = ["${h.testClasses}"]
            jvm-options = [${h.workerJvm.joinToString(", ") { "\"${it.removePrefix("--jvm-opt=")}\"" }}, "-Dkcl.test=$value"]
            env { KCL_TEST = $value }
            pid-file = "$pid"
            log-file = "$log"
            """
                        .trimIndent(),
                )
            write("one", 2)
            val w = h.start("--config", "$conf")
            withClue({ "log:\n${text(log)}\n$w" }) {
                awaitUntil("cluster ready", 60_000) { text(log).contains("cluster ready: 2 workers") || !w.process.isAlive }
                // Each worker logs its environment and property right after its listen (its READY).
                awaitUntil("workers with the file's settings", 60_000) {
                    text(log).lines().count { it.contains("env KCL_TEST=one") && it.contains("prop kcl.test=one") } == 2
                }
                val before = h.status(pid)
                write("two", 3)
                val r = h.run("reload", "-p", "$pid")
                withClue(r) { r.code shouldBe 0 }
                text(log) shouldContain "control request: $conf changed jvm-options, env; the new workers get them"
                text(log) shouldContain
                    "control request: $conf changed workers, which take effect only when the cluster is stopped and started again"
                awaitUntil("workers with the edited settings", 60_000) {
                    text(log).lines().count { it.contains("env KCL_TEST=two") && it.contains("prop kcl.test=two") } == 2
                }
                val after = h.status(pid)
                after.serving() shouldHaveSize 2
                (after.workers.map { it.pid } intersect before.workers.map { it.pid }.toSet()) shouldBe emptySet()
                after.workers.forEach { worker ->
                    val environ = String(Files.readAllBytes(Paths.get("/proc/${worker.pid}/environ"))).split('\u0000')
                    ("KCL_TEST=two" in environ) shouldBe true
                }

                Files.writeString(conf, Files.readString(conf) + "\nbogus = 1\n")
                val bad = h.run("reload", "-p", "$pid")
                bad.code shouldBe 3
                bad.stderr shouldContain "cannot reread $conf: $conf:8: unknown key 'bogus'; nothing was restarted"
                h.status(pid).workers.map { it.pid }.toSet() shouldBe after.workers.map { it.pid }.toSet()
                h.run("stop", "-p", "$pid").code shouldBe 0
                w.awaitExit(30) shouldBe 0
            }
        }
    })
