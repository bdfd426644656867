package dev.kcluster

import dev.kcluster.testing.StandaloneProgram
import dev.kcluster.testing.signal
import dev.kcluster.testing.startJvm
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

class StandaloneTest :
    FunSpec({
        for (sig in listOf("TERM", "INT", "HUP")) {
            test("the same program runs standalone and stops on SIG$sig") {
                val p = startJvm(StandaloneProgram::class.java)
                val out = p.inputStream.bufferedReader()
                out.readLine() shouldBe "isWorker=false workerId=0"
                out.readLine() shouldContain
                    "Cluster.channel is only available in a worker started by a cluster watcher; check Cluster.isWorker first"
                val port = out.readLine().removePrefix("port ").toInt()
                ask(port) shouldBe "standalone"
                signal(p.pid(), sig)
                out.readLine() shouldBe "terminated"
                p.waitFor(30, TimeUnit.SECONDS) shouldBe true
                p.exitValue() shouldBe 0
            }
        }

        test("a stop signal the process started with ignored (nohup) gets one warning naming it, and SIGTERM still stops it") {
            val p = startJvm(StandaloneProgram::class.java, ignoredSignals = listOf("INT"))
            val lines = LinkedBlockingQueue<String>()
            for (stream in listOf(p.inputStream, p.errorStream)) thread(isDaemon = true) { stream.bufferedReader().forEachLine(lines::add) }
            val seen = mutableListOf<String>()
            fun awaitLine(what: String, match: (String) -> Boolean): String {
                seen.firstOrNull(match)?.let {
                    return it
                }
                val deadline = System.nanoTime() + 30_000_000_000L
                while (System.nanoTime() < deadline) {
                    val line = lines.poll(1, TimeUnit.SECONDS) ?: continue
                    seen += line
                    if (match(line)) return line
                }
                error("$what did not appear within 30 s; output: $seen")
            }
            awaitLine("the port") { it.startsWith("port ") }
            awaitLine("the warning") { it.contains("SIGINT is ignored by this process") }
            seen.count { it.contains("is ignored by this process") } shouldBe 1
            signal(p.pid(), "TERM")
            awaitLine("the stop") { it == "terminated" }
            p.waitFor(30, TimeUnit.SECONDS) shouldBe true
            p.exitValue() shouldBe 0
        }
    })
