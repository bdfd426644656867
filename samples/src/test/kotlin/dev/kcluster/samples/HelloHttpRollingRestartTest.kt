package dev.kcluster.samples

import dev.kcluster.ClusterWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldNotContainAnyOf
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe

class HelloHttpRollingRestartTest :
    FunSpec({
        test("rolling restart twice under keep-alive load loses no request") {
            val watcher = ClusterWatcher(testConfig(HelloHttp::class.java.name, "--port", "0"))
            var client: KeepAliveClient? = null
            var slow: KeepAliveClient? = null
            try {
                watcher.start(2)
                val port = watcher.listeningAddresses.single().port
                val initialIds = watcher.workers.map { it.id.toString() }.toSet()
                // 6 busy clients plus 2 that pause up to 300 ms between requests (idle keep-alive connections).
                client = KeepAliveClient(port, clients = 6).start()
                slow = KeepAliveClient(port, clients = 2, pauseMillis = 300).start()
                suspend fun awaitOk(n: Long) = client.awaitOk(n)
                awaitOk(200)
                client.recentWorkerIds().intersect(initialIds).isNotEmpty() shouldBe true
                repeat(2) { round ->
                    val before = client.ok.get()
                    val result = watcher.restart()
                    result.rolledBack shouldBe false
                    println("restart ${round + 1}: ${result}; ${client.ok.get() - before} requests answered during it")
                    awaitOk(200)
                }
                val finalIds = watcher.workers.map { it.id.toString() }.toSet()
                // after both restarts, every answer comes from the new workers (the slow threads pause 300 ms between requests,
                // so wait for a fresh answer on every thread)
                awaitOk(300)
                val seenNow = client.freshWorkerIds() + slow.freshWorkerIds()
                client.stop()
                slow.stop()
                println(
                    "ok=${client.ok.get() + slow.ok.get()} failed=${client.failed.get() + slow.failed.get()} " +
                        "connections=${client.reconnects.get() + slow.reconnects.get()} byWorker=${client.byWorker} slow=${slow.byWorker}"
                )
                (client.failures + slow.failures).forEach { println("failure: $it") }
                client.failed.get() shouldBe 0
                slow.failed.get() shouldBe 0
                client.ok.get() shouldBeGreaterThan 700
                slow.ok.get() shouldBeGreaterThan 0
                finalIds shouldNotContainAnyOf initialIds
                seenNow shouldNotContainAnyOf initialIds
                seenNow.all { it in finalIds } shouldBe true
            } finally {
                client?.stop()
                slow?.stop()
                watcher.stop()
            }
        }
    })
