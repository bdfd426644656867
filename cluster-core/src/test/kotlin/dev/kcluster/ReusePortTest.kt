package dev.kcluster

import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.net.InetSocketAddress
import java.nio.ByteBuffer
import java.nio.channels.SocketChannel
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

/** Connects to 127.0.0.1:[port] until every one of [ids] has answered "worker <id>" (the kernel spreads connections). */
private suspend fun reachAll(port: Int, ids: Set<Int>) =
    withContext(Dispatchers.IO) {
        val seen = mutableSetOf<Int>()
        repeat(2_000) {
            if (seen.containsAll(ids)) return@withContext seen
            SocketChannel.open(InetSocketAddress("127.0.0.1", port)).use { ch ->
                val buf = ByteBuffer.allocate(64)
                while (ch.read(buf) >= 0) Unit
                seen += String(buf.array(), 0, buf.position()).trim().removePrefix("worker ").toInt()
            }
        }
        seen
    }

class ReusePortTest :
    FunSpec({
        test("in reuse-port mode, workers listening on port 0 all get the same port, each serves it, and a rolling restart keeps it") {
            val config = testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0") { socketMode(SocketMode.REUSE_PORT) }
            withWatcher(config, 3) { w ->
                val ports =
                    withTimeout(60_000) { w.messages.filter { it.message.asString().startsWith("port ") }.take(3).toList() }
                        .map { it.worker.id to it.message.asString().removePrefix("port ").toInt() }
                ports.map { it.first }.toSet() shouldBe setOf(1, 2, 3)
                val port = ports.first().second
                port shouldNotBe 0
                ports.map { it.second }.toSet() shouldBe setOf(port)
                w.listeningAddresses.map { it.port } shouldContain port
                withTimeout(60_000) { reachAll(port, setOf(1, 2, 3)) } shouldBe setOf(1, 2, 3)

                w.restart().replaced shouldBe 3
                val after =
                    withTimeout(60_000) {
                        w.messages.map { it.worker.id to it.message.asString() }.filter { it.second.startsWith("port ") }.take(3).toList()
                    }
                after.map { it.second.removePrefix("port ").toInt() }.toSet() shouldBe setOf(port)
                val fresh = w.workers.map { it.id }.toSet()
                after.map { it.first }.toSet() shouldBe fresh
                withTimeout(60_000) { reachAll(port, fresh) } shouldBe fresh
            }
        }
    })
