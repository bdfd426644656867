package dev.kcluster

import dev.kcluster.testing.EchoWorker
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout

class SmokeTest : FunSpec({
    test("watcher starts two workers and exchanges messages") {
        val w = ClusterWatcher(WatcherConfig(EchoWorker::class.java.name) { jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1") })
        try {
            val t0 = System.nanoTime()
            w.start(2)
            println("start(2) -> READY in ${(System.nanoTime() - t0) / 1_000_000} ms")
            w.workers.size shouldBe 2
            w.broadcast(Message.ofString("hi")) shouldBe 2
            withTimeout(10_000) { w.messages.first { it.message.asString().startsWith("echo:hi") } }
        } finally {
            w.stop()
        }
    }
})
