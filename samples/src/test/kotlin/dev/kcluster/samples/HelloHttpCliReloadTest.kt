@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.samples

import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.testing.awaitUntil
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldNotContainAnyOf
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.net.ServerSocket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * The issue's end-to-end proof through the operator's front door: the real `cluster` command runs HelloHttp on 2 workers; keep-alive
 * clients hammer it while `cluster reload -p F` runs twice.
 */
class HelloHttpCliReloadTest :
    FunSpec({
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val classpath = System.getProperty("java.class.path")

        fun cli(vararg args: String): ProcessBuilder =
            ProcessBuilder(listOf(java) + KclusterJvm.ADD_OPENS + listOf("-cp", classpath, "dev.kcluster.cli.ClusterCli") + args)

        fun control(vararg args: String): Pair<Int, String> {
            val p = cli(*args).redirectErrorStream(true).start()
            val out = p.inputStream.bufferedReader().readText()
            check(p.waitFor(60, TimeUnit.SECONDS)) { "cluster ${args.joinToString(" ")} did not finish" }
            return p.exitValue() to out
        }

        test("reload twice under keep-alive load through the cluster command loses no request") {
            val dir = Files.createTempDirectory("kcluster-cli-reload")
            val pidFile = dir.resolve("hello.pid").toString()
            val port = ServerSocket(0).use { it.localPort }
            val watcher =
                cli(
                        "--workers",
                        "2",
                        "--pid-file",
                        pidFile,
                        "--stop-timeout",
                        "20s",
                        "--ready-timeout",
                        "60s",
                        "--jvm-opt",
                        "-Xmx64m",
                        "--jvm-opt",
                        "-XX:+UseSerialGC",
                        "--jvm-opt",
                        "-XX:TieredStopAtLevel=1",
                        "dev.kcluster.samples.HelloHttp",
                        "--port",
                        port.toString(),
                    )
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(dir.resolve("watcher.log").toFile())
                    .start()
            var client: KeepAliveClient? = null
            try {
                awaitUntil("2 workers READY", 60_000, pollMillis = 200) {
                    Regex("READY").findAll(control("status", "-p", pidFile).second).count() >= 2
                }
                client = KeepAliveClient(port, clients = 6).start()
                suspend fun awaitOk(n: Long) = client.awaitOk(n)
                awaitOk(200)
                val before = client.recentWorkerIds()
                before shouldBe setOf("1", "2")
                repeat(2) {
                    val (code, out) = control("reload", "-p", pidFile)
                    withClue(out) { code shouldBe 0 }
                    awaitOk(200)
                }
                awaitOk(300)
                val after = client.recentWorkerIds()
                client.stop()
                println("cluster reload x2: ok=${client.ok.get()} failed=${client.failed.get()} byWorker=${client.byWorker}")
                client.failures.forEach { println("failure: $it") }
                client.failed.get() shouldBe 0
                client.ok.get() shouldBeGreaterThan 700
                // Only the replacements answer now (keep-alive clients may all sit on one of them).
                after shouldNotContainAnyOf before
                after.isNotEmpty() shouldBe true
                (after - setOf("5", "6")) shouldBe emptySet()
                control("stop", "-p", pidFile).first shouldBe 0
                watcher.waitFor(60, TimeUnit.SECONDS) shouldBe true
                watcher.exitValue() shouldBe 0
                Files.exists(Path.of(pidFile)) shouldBe false
            } finally {
                client?.stop()
                watcher.descendants().forEach { it.destroyForcibly() }
                watcher.destroyForcibly()
                dir.toFile().deleteRecursively()
            }
        }
    })

private inline fun <T> withClue(clue: String, block: () -> T): T = io.kotest.assertions.withClue(clue, block)
