package dev.kcluster

import dev.kcluster.testing.StandaloneProgram
import dev.kcluster.testing.signal
import dev.kcluster.testing.startJvm
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.util.concurrent.TimeUnit

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
    })
