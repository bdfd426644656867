package dev.kcluster

import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import java.net.InetSocketAddress
import java.nio.channels.SocketChannel
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

class RecyclingTest :
    FunSpec({
        test("--max-requests replaces workers one at a time, each successor READY first, losing no connection") {
            val config = testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0") { maxRequests(40, jitter = 10) }
            withWatcher(config, 2) { w ->
                val recycled = CopyOnWriteArrayList<ClusterEvent.WorkerRecycling>()
                val exits = CopyOnWriteArrayList<ExitReason>()
                var minReady = Int.MAX_VALUE
                val watchState =
                    launch(start = CoroutineStart.UNDISPATCHED) { w.state.collect { s -> minReady = minOf(minReady, s.readyCount) } }
                val watchEvents =
                    launch(start = CoroutineStart.UNDISPATCHED) {
                        w.events.collect { e ->
                            if (e is ClusterEvent.WorkerRecycling) recycled += e
                            if (e is ClusterEvent.WorkerExited) exits += e.reason
                        }
                    }
                val port = w.listeningAddresses.single().port
                var failed = 0
                withContext(Dispatchers.IO) {
                    repeat(400) {
                        runCatching {
                                SocketChannel.open(InetSocketAddress("127.0.0.1", port)).use { c ->
                                    val b = java.nio.ByteBuffer.allocate(32)
                                    while (c.read(b) >= 0) Unit
                                    check(String(b.array(), 0, b.position()).startsWith("worker "))
                                }
                            }
                            .onFailure { failed++ }
                    }
                }
                awaitUntil("two recyclings") { recycled.size >= 2 }
                awaitUntil("their workers exited") { exits.size >= 2 }
                watchState.cancel()
                watchEvents.cancel()
                failed shouldBe 0
                recycled.map { it.reason }.toSet() shouldBe setOf("requests")
                exits.forEach {
                    it.expected shouldBe true
                    it.detail!! shouldStartWith "recycled: requests"
                }
                minReady shouldBeGreaterThanOrEqual 2 - 1
            }
        }

        test("--max-memory replaces a worker whose heap after GC is over the limit, with reason heap") {
            val config = testConfig(EchoWorker::class.java) { maxMemory(24L shl 20) }
            withWatcher(config, 1) { w ->
                val victim = w.workers.single()
                val event = async(start = CoroutineStart.UNDISPATCHED) { w.events.filterIsInstance<ClusterEvent.WorkerRecycling>().first() }
                victim.send(Message.ofString("retain-mb:32"))
                val e = withTimeout(30_000) { event.await() }
                e.reason shouldBe "heap"
                e.worker.id shouldBe victim.id
                (e.worker.load.heapUsedAfterGc > (24L shl 20)) shouldBe true
                awaitUntil("replaced") { w.workers.singleOrNull()?.let { it.id != victim.id && it.state == WorkerState.READY } == true }
                w.workers.map { it.slot } shouldBe listOf(victim.slot)
            }
        }
    })
