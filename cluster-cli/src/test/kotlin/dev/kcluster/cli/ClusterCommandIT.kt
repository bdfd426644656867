package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import dev.kcluster.cli.testing.alive
import dev.kcluster.testing.awaitUntil
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.TimeUnit

private const val PERL = "/usr/bin/perl"
private const val NEW_GROUP = "use POSIX; POSIX::setsid() or die; \$SIG{INT} = 'DEFAULT'; exec @ARGV or die"

/** End-to-end: the real fat jar (and bin/cluster) as processes, real workers, real signals. */
class ClusterCommandIT :
    FunSpec({
        val h = CliHarness()
        afterSpec { h.cleanUp() }
        val target = TestServer::class.java.name
        val base = arrayOf("-cp", h.testClasses) + h.workerJvm

        fun ClusterStatus.pids() = workers.map { it.pid }.toSet()
        fun ClusterStatus.allReady(n: Int) = workers.size == n && workers.all { it.state == "READY" } && pids().size == n
        fun text(p: Path) = if (Files.exists(p)) Files.readString(p) else ""

        test("a 2-worker cluster answers status, reload, SIGHUP, scale, TTIN/TTOU, --watch, SIGUSR1 (log reopen), SIGUSR2 and stop") {
            val pid = h.dir.resolve("a.pid")
            val log = h.dir.resolve("a.log")
            val watched = Files.createDirectories(h.dir.resolve("watched"))
            val w = h.start("-w", "2", "-p", "$pid", "-f", "$log", "--watch", "$watched", *base, target)
            withClue({ "log:\n${text(log)}\n$w" }) {
                awaitUntil("cluster ready", 60_000) { text(log).contains("cluster ready: 2 workers") || !w.process.isAlive }
                w.process.isAlive shouldBe true
                Files.readString(pid).trim() shouldBe "${w.pid}"

                val s0 = h.status(pid)
                s0.watcherPid shouldBe w.pid
                s0.allReady(2) shouldBe true
                val table = h.run("status", "-p", "$pid")
                table.code shouldBe 0
                table.stdout.lines().filter { it.contains("READY") } shouldHaveSize 2
                table.stdout shouldContain "MiB"

                val second = h.run("-p", "$pid", *base, target)
                second.code shouldBe 1
                second.stderr shouldContain "already running with pid ${w.pid}"
                Files.readString(pid).trim() shouldBe "${w.pid}"

                val reload = h.run("reload", "-p", "$pid")
                withClue(reload) { reload.code shouldBe 0 }
                val s1 = h.status(pid)
                s1.allReady(2) shouldBe true
                (s1.pids() intersect s0.pids()).shouldBeEmpty()
                awaitUntil("old workers gone after reload", 10_000) { s0.pids().none(::alive) }

                h.signal(w.pid, "HUP")
                awaitUntil("SIGHUP reload", 60_000) { text(log).contains("SIGHUP: rolling restart done, 2 workers replaced") }
                val s2 = h.status(pid)
                s2.allReady(2) shouldBe true
                (s2.pids() intersect s1.pids()).shouldBeEmpty()

                h.run("scale", "3", "-p", "$pid").code shouldBe 0
                h.status(pid).allReady(3) shouldBe true

                h.signal(w.pid, "TTOU")
                awaitUntil("SIGTTOU", 60_000) { text(log).contains("SIGTTOU: scaled to 2 workers") }
                h.status(pid).allReady(2) shouldBe true
                h.signal(w.pid, "TTIN")
                awaitUntil("SIGTTIN", 60_000) { text(log).contains("SIGTTIN: scaled to 3 workers") }
                val s3 = h.status(pid)
                s3.allReady(3) shouldBe true

                Files.writeString(watched.resolve("app.conf"), "changed")
                awaitUntil("--watch reload", 90_000) { text(log).contains("rolling restart done, 3 workers replaced") }
                text(log) shouldContain "change in $watched"
                val s4 = h.status(pid)
                s4.allReady(3) shouldBe true
                (s4.pids() intersect s3.pids()).shouldBeEmpty()

                // logrotate: rename, then `postrotate kill -USR1`; the cluster must not restart.
                val rotated = h.dir.resolve("a.log.1")
                Files.move(log, rotated)
                h.signal(w.pid, "USR1")
                awaitUntil("log reopened", 60_000) { text(log).contains("SIGUSR1: log file reopened") }
                text(rotated) shouldContain "cluster ready"
                h.signal(w.pid, "USR2")
                awaitUntil("SIGUSR2 ignored") { text(log).contains("SIGUSR2 ignored") }
                h.status(pid).pids() shouldBe s4.pids()
                text(log) shouldNotContain "rolling restart"

                val stop = h.run("stop", "-p", "$pid")
                withClue(stop) { stop.code shouldBe 0 }
                w.awaitExit(30) shouldBe 0
                Files.exists(pid) shouldBe false
                Files.exists(Paths.get("$pid.sock")) shouldBe false
                awaitUntil("workers gone after stop", 10_000) { s4.pids().none(::alive) }
            }
        }

        test("SIGKILL of the watcher leaves no worker; bin/cluster replaces the stale pid file; a failed reload rolls back") {
            val pid = h.dir.resolve("c.pid")
            val w = h.start("-w", "2", "-p", "$pid", *base, target)
            awaitUntil("cluster ready", 60_000) { w.stderr.contains("cluster ready: 2 workers") || !w.process.isAlive }
            val workers = h.status(pid).pids()
            workers shouldHaveSize 2
            val environ = String(Files.readAllBytes(Paths.get("/proc/${workers.first()}/environ"))).split('\u0000')
            val ipcDir = Paths.get(environ.first { it.startsWith("KCLUSTER_SOCKET=") }.substringAfter('=')).parent
            h.signal(w.pid, "KILL")
            w.awaitExit(20)
            awaitUntil("workers gone after SIGKILL of the watcher", 10_000) { workers.none(::alive) }
            // A SIGKILLed watcher cannot remove its IPC directory (the next watcher sweeps it); leave nothing behind.
            ipcDir.toFile().deleteRecursively() shouldBe true
            Files.exists(pid) shouldBe true

            // Through the launcher, via a symlink, from another directory: exec keeps the pid.
            val link = Files.createSymbolicLink(h.dir.resolve("cluster-link"), h.jar.parent.parent.parent.resolve("bin/cluster"))
            val cwd = Files.createDirectories(h.dir.resolve("cwd")).toRealPath()
            val pb =
                ProcessBuilder(
                        listOf(
                            link.toString(),
                            "-w",
                            "1",
                            "-p",
                            "$pid",
                            "--env",
                            "KCL_TEST=a=b",
                            "--chdir",
                            "$cwd",
                            *base,
                            target,
                            "fail-above",
                            "1",
                        )
                    )
                    .directory(Paths.get("/").toFile())
            pb.environment()["KCLUSTER_JAVA_OPTS"] = "-Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
            val launched = CliHarness.Running(pb.start()).also { h.track(it.process) }
            withClue({ launched.toString() }) {
                awaitUntil("relaunched cluster ready", 60_000) {
                    launched.stderr.contains("cluster ready: 1 worker") || !launched.process.isAlive
                }
                launched.stderr shouldContain "replacing stale pid file"
                // Worker records reach the log through the watcher's writer thread, possibly after "cluster ready".
                awaitUntil("the worker's environment line", 30_000) { launched.stderr.contains("worker 1 env KCL_TEST=a=b cwd=$cwd") }
                Files.readString(pid).trim() shouldBe "${launched.pid}"
                val before = h.status(pid)

                val reload = h.run("reload", "-p", "$pid")
                reload.code shouldBe 3
                reload.stderr shouldContain "rolled back"
                reload.stderr shouldContain "worker 2 refuses to start"
                val after = h.status(pid)
                after.allReady(1) shouldBe true
                after.pids() shouldBe before.pids()

                h.signal(launched.pid, "TERM")
                launched.awaitExit(60) shouldBe 0
                Files.exists(pid) shouldBe false
                awaitUntil("worker gone", 10_000) { after.pids().none(::alive) }
            }
        }

        test("a second SIGTERM kills workers that do not stop and exits non-zero") {
            val pid = h.dir.resolve("b.pid")
            val w = h.start("-w", "1", "-p", "$pid", "--stop-timeout", "2m", *base, target, "stubborn")
            withClue({ w.toString() }) {
                awaitUntil("cluster ready", 60_000) { w.stderr.contains("cluster ready: 1 worker") || !w.process.isAlive }
                val worker = h.status(pid).pids().single()
                h.signal(w.pid, "TERM")
                awaitUntil("graceful stop begun", 60_000) { w.stderr.contains("refuses to stop") }
                w.process.isAlive shouldBe true
                alive(worker) shouldBe true
                h.signal(w.pid, "TERM")
                w.awaitExit(30) shouldBe 128 + 15
                w.stderr shouldContain "second SIGTERM"
                awaitUntil("stubborn worker killed", 10_000) { !alive(worker) }
                Files.exists(pid) shouldBe false
            }
        }

        test("a second SIGINT kills the workers and exits with 130") {
            val pid = h.dir.resolve("i.pid")
            val w = h.start("-w", "2", "-p", "$pid", "--stop-timeout", "2m", *base, target, "stubborn")
            withClue({ w.toString() }) {
                awaitUntil("cluster ready") { w.stderr.contains("cluster ready: 2 workers") || !w.process.isAlive }
                val workers = h.status(pid).pids()
                h.signal(w.pid, "INT")
                awaitUntil("graceful stop begun") { w.stderr.lines().count { it.contains("refuses to stop") } == 2 }
                workers.all(::alive) shouldBe true
                h.signal(w.pid, "INT")
                w.awaitExit(30) shouldBe 128 + 2
                w.stderr shouldContain "second SIGINT: killing the workers now"
                awaitUntil("stubborn workers killed", 10_000) { workers.none(::alive) }
                Files.exists(pid) shouldBe false
                Files.exists(Paths.get("$pid.sock")) shouldBe false
            }
        }

        test("Ctrl-C (SIGINT to the whole process group) stops the workers gracefully").config(
            enabled = Files.isExecutable(Paths.get(PERL))
        ) {
            val pid = h.dir.resolve("g.pid")
            // A new session and process group with SIGINT at its default, like a foreground job in a terminal.
            val w = h.start("-w", "2", "-p", "$pid", *base, target, wrapper = listOf(PERL, "-e", NEW_GROUP))
            withClue({ w.toString() }) {
                awaitUntil("cluster ready", 60_000) { w.stderr.contains("cluster ready: 2 workers") || !w.process.isAlive }
                val workers = h.status(pid).pids()
                h.signal(-w.pid, "INT")
                w.awaitExit(60) shouldBe 0
                w.stderr shouldContain "SIGINT: stopping gracefully"
                w.stderr.lines().count { it.contains("TestServer - worker") && it.endsWith("stopping") } shouldBe 2
                w.stderr.contains("SIGINT)") shouldBe false
                awaitUntil("workers gone", 10_000) { workers.none(::alive) }
            }
        }

        test("a missing main class exits non-zero with the class name on stderr") {
            val pid = h.dir.resolve("e.pid")
            val r = h.run("-w", "1", "-p", "$pid", "--log-format", "json", *base, "com.example.DoesNotExist")
            withClue(r) {
                r.code shouldNotBe 0
                r.stderr shouldContain "com.example.DoesNotExist"
                r.stderr shouldContain "cannot start"
                // The merged log is JSON lines, the worker's own output included.
                r.stderr.lines().filter { it.startsWith("{") && it.contains("\"source\":\"worker 1\"") } shouldNotBe emptyList<String>()
            }
            Files.exists(pid) shouldBe false
        }

        test("crash-looping workers stop the cluster with a non-zero exit and the worker's failure") {
            val r = h.run("-w", "1", "--max-restarts", "1", "--restart-window", "1m", "-l", "error", *base, target, "crash")
            withClue(r) {
                r.code shouldNotBe 0
                r.stderr shouldContain "crashes as requested"
                // --log-level error hides the watcher's and the workers' info lines.
                r.stderr shouldNotContain "hello from worker"
                r.stderr shouldNotContain "starting 1 worker"
            }
        }

        test("a bad flag exits 2 with a one-line reason and starts nothing") {
            val pid = h.dir.resolve("f.pid")
            val r = h.run("-p", "$pid", "--bogus", target)
            r.code shouldBe 2
            r.stderr.lines().filter { it.startsWith("Error:") } shouldBe listOf("Error: no such option --bogus")
            Files.exists(pid) shouldBe false
            val bad = h.run("-w", "two", target)
            bad.code shouldBe 2
            bad.stderr shouldContain "two is not a valid integer"
            h.run("status").code shouldBe 2
        }

        test("bin/cluster works through a symlink from any directory") {
            val link = Files.createSymbolicLink(h.dir.resolve("cluster-help"), h.jar.parent.parent.parent.resolve("bin/cluster"))
            val p = ProcessBuilder(link.toString(), "--help").directory(Paths.get("/").toFile()).redirectErrorStream(true).start()
            val out = p.inputStream.bufferedReader().readText()
            p.waitFor(60, TimeUnit.SECONDS) shouldBe true
            p.exitValue() shouldBe 0
            out shouldContain "Usage: cluster"
            out.length shouldBeGreaterThan 100
        }
    })
