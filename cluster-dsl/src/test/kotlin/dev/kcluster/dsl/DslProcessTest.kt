@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.dsl

import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.dsl.testing.DslTestApp
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/** Waits up to 60 s until [path] exists and its text satisfies [condition] (polled, as a file gives no event). */
private fun awaitFile(path: Path, condition: (String) -> Boolean) {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
    while (!(Files.exists(path) && condition(Files.readString(path)))) {
        check(System.nanoTime() < deadline) {
            "$path not as expected within 60 s: ${if (Files.exists(path)) Files.readString(path) else "missing"}"
        }
        Thread.sleep(50)
    }
}

/** `cluster(args) { }` as a real program: a spawned JVM running [DslTestApp.main], driven by signals. */
class DslProcessTest :
    FunSpec({
        class App(vararg args: String, env: Map<String, String> = emptyMap()) : AutoCloseable {
            val process: Process =
                ProcessBuilder(
                        listOf(
                            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                            "-Xmx96m",
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                        ) + KclusterJvm.ADD_OPENS + listOf("-cp", System.getProperty("java.class.path"), DslTestApp::class.java.name, *args)
                    )
                    .apply { environment().putAll(env) }
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start()
            val lines = LinkedBlockingQueue<String>()

            init {
                thread(isDaemon = true) { process.inputStream.bufferedReader().forEachLine { lines += it } }
            }

            private val unread = ArrayList<String>()

            /** The first line starting with [prefix] not yet taken (other lines stay for later calls). */
            fun next(prefix: String): String {
                val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
                while (true) {
                    unread
                        .firstOrNull { it.startsWith(prefix) }
                        ?.let {
                            unread.remove(it)
                            return it
                        }
                    val left = deadline - System.nanoTime()
                    unread += lines.poll(left.coerceAtLeast(0), TimeUnit.NANOSECONDS) ?: error("no '$prefix' line within 60 s; got $unread")
                }
            }

            fun signal(name: String) = ProcessBuilder("kill", "-$name", process.pid().toString()).start().waitFor() shouldBe 0

            /** The worker pids of the `STARTED` line. */
            fun started(): List<Long> = next("STARTED").removePrefix("STARTED ").split(",").map { it.toLong() }

            fun exitCode(): Int {
                check(process.waitFor(60, TimeUnit.SECONDS)) { "the program did not exit within 60 s" }
                return process.exitValue()
            }

            override fun close() {
                process.descendants().forEach { it.destroyForcibly() }
                process.destroyForcibly()
            }
        }

        test("--standalone runs the worker block once in-process and its messages reach the handlers") {
            App("--standalone", "finish").use { app ->
                app.next("HELLO") shouldBe "HELLO 0 ${app.process.pid()} true"
                app.exitCode() shouldBe 0
                app.process.descendants().count() shouldBe 0L
            }
        }

        test("KCLUSTER_STANDALONE=1 selects standalone mode too") {
            App("finish", env = mapOf("KCLUSTER_STANDALONE" to "1")).use { app ->
                app.next("HELLO") shouldBe "HELLO 0 ${app.process.pid()} true"
                app.exitCode() shouldBe 0
            }
        }

        test("the program launches itself as workers; SIGHUP restarts them, SIGTERM stops everything with exit code 0") {
            App("workers", "2").use { app ->
                val pids = app.next("STARTED").removePrefix("STARTED ").split(",").map { it.toLong() }
                pids shouldHaveSize 2
                val workers = pids.map { ProcessHandle.of(it).orElseThrow() }
                workers.forEach { it.parent().get().pid() shouldBe app.process.pid() }
                workers.forEach { java.io.File("/proc/${it.pid()}/cmdline").readText() shouldContain DslTestApp::class.java.name }
                setOf(app.next("HELLO"), app.next("HELLO")).map { it.split(" ")[2].toLong() }.toSet() shouldBe pids.toSet()

                app.signal("HUP")
                val fresh = setOf(app.next("HELLO"), app.next("HELLO"))
                fresh.map { it.split(" ")[1].toInt() }.toSet() shouldBe setOf(3, 4)
                (fresh.map { it.split(" ")[2].toLong() }.toSet() intersect pids.toSet()) shouldBe emptySet()

                val all = app.process.descendants().toList()
                app.signal("TERM")
                app.exitCode() shouldBe 0
                all.forEach { it.isAlive shouldBe false }
            }
        }

        test("a second SIGINT kills workers that do not stop and exits with 130, like the cluster command") {
            App("workers", "2", "stubborn").use { app ->
                val pids = app.started()
                app.signal("INT")
                setOf(app.next("ECHO refusing to stop"), app.next("ECHO refusing to stop")) shouldHaveSize 2
                pids.forEach { ProcessHandle.of(it).isPresent shouldBe true }
                app.signal("INT")
                app.exitCode() shouldBe 130
                pids.forEach { pid -> ProcessHandle.of(pid).orElse(null)?.onExit()?.get(10, TimeUnit.SECONDS) }
                pids.filter { ProcessHandle.of(it).map { h -> h.isAlive }.orElse(false) } shouldBe emptyList()
            }
        }

        test("SIGUSR1 reopens the log file without restarting a worker; SIGUSR2 is ignored") {
            val dir = Files.createTempDirectory("kcluster-dsl-log")
            try {
                val log = dir.resolve("watcher.log")
                App("workers", "2", env = mapOf("KCLUSTER_LOG_FILE" to log.toString())).use { app ->
                    val pids = app.started().toSet()
                    val rotated = dir.resolve("watcher.log.1")
                    Files.move(log, rotated)
                    app.signal("USR1")
                    awaitFile(log) { it.contains("SIGUSR1: log file reopened") }
                    app.signal("USR2")
                    awaitFile(log) { it.contains("SIGUSR2 ignored") }
                    app.process.children().map { it.pid() }.toList().toSet() shouldBe pids
                    Files.readString(log) shouldNotContain "rolling restart"
                    app.signal("TERM")
                    app.exitCode() shouldBe 0
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }
    })
