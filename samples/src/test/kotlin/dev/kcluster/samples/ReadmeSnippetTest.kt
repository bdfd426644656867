package dev.kcluster.samples

import dev.kcluster.ClusterWatcher
import dev.kcluster.testing.awaitValue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout

/** The README's first snippet is `readme/Readme.kt` word for word, and runs standalone and as a worker. */
class ReadmeSnippetTest :
    FunSpec({
        val mainClass = "dev.kcluster.samples.readme.ReadmeKt"

        fun hello(port: Int): String =
            Socket("127.0.0.1", port).use { s ->
                s.soTimeout = 20_000
                s.getInputStream().bufferedReader().readLine()
            }

        test("the README's first snippet is readme/Readme.kt") {
            val readme = Files.readString(Path.of("../README.md"))
            val snippet = readme.substringAfter("```kotlin\n").substringBefore("```")
            val source = Files.readString(Path.of("src/test/kotlin/dev/kcluster/samples/readme/Readme.kt"))
            source shouldBe "package dev.kcluster.samples.readme\n\n$snippet"
        }

        test("the snippet serves TCP standalone and ends on SIGTERM") {
            val port = ServerSocket(0).use { it.localPort }
            val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
            // No --add-opens: a standalone program binds its own sockets and receives none.
            val cmd =
                listOf(
                    java,
                    "-Xmx64m",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    mainClass,
                    port.toString(),
                )
            val process = ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
            try {
                val line = awaitValue("the standalone snippet to answer on port $port", 60_000, pollMillis = 50) { hello(port) }
                line shouldBe "hello from ${process.pid()}"
                ProcessBuilder("kill", "-TERM", process.pid().toString()).start().waitFor() shouldBe 0
                process.waitFor(20, TimeUnit.SECONDS) shouldBe true
                process.exitValue() shouldBe 0
            } finally {
                process.destroyForcibly()
            }
        }

        test("the snippet runs unchanged as the workers of a cluster, which share its socket") {
            val port = ServerSocket(0).use { it.localPort }
            val watcher = ClusterWatcher(testConfig(mainClass, port.toString()))
            try {
                val up = coroutineScope {
                    val first = async { watcher.messages.first() }
                    watcher.start(2)
                    withTimeout(60_000) { first.await() }
                }
                up.message.asString() shouldBe "worker ${up.worker.id} up"
                val pids = watcher.workers.map { it.pid }
                val seen = HashSet<Long>()
                awaitValue("answers from both workers", 60_000, pollMillis = 1) {
                        seen += hello(port).removePrefix("hello from ").toLong()
                        seen.takeIf { it.size == 2 }
                    }
                    .toList() shouldContainExactlyInAnyOrder pids
            } finally {
                watcher.stop()
            }
        }
    })
