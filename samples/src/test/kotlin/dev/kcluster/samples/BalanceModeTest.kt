package dev.kcluster.samples

import dev.kcluster.BalanceStrategy
import dev.kcluster.ClusterWatcher
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.io.BufferedInputStream
import java.io.File
import java.io.IOException
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.Socket
import java.net.SocketTimeoutException
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout

/** HelloHttp (Netty through cluster-netty, user code unchanged) served in balance mode by real worker JVMs. */
class BalanceModeTest :
    FunSpec({
        fun balanced(strategy: BalanceStrategy = BalanceStrategy.ROUND_ROBIN, configure: WatcherConfig.Builder.() -> Unit = {}) =
            testConfig(HelloHttp::class.java.name, "--port", "0") {
                socketMode(SocketMode.BALANCE)
                balance(strategy)
                configure()
            }

        /** Opens a connection (from [from] when given), sends one keep-alive request, returns the socket and the worker id. */
        fun open(port: Int, from: InetAddress? = null): Pair<Socket, String> {
            val s = Socket()
            s.soTimeout = 20_000
            if (from != null) s.bind(InetSocketAddress(from, 0))
            s.connect(InetSocketAddress("127.0.0.1", port), 20_000)
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".toByteArray())
            val r = KeepAliveClient.readResponse(BufferedInputStream(s.getInputStream()))
            check(r.status == 200) { "status ${r.status}" }
            return s to (r.headers["x-worker-id"] ?: "?")
        }

        suspend fun withCluster(config: WatcherConfig, n: Int, block: suspend (ClusterWatcher, Int) -> Unit) {
            val w = ClusterWatcher(config)
            try {
                w.start(n)
                block(w, w.listeningAddresses.single().port)
            } finally {
                w.stop()
            }
        }

        test("round-robin spreads a keep-alive client fleet evenly over 2 workers") {
            withCluster(balanced(), 2) { _, port ->
                // 16 keep-alive connections, 50 requests each: every answer names its worker (X-Worker-Id).
                val fleet = List(16) { open(port) }
                try {
                    val byConnection =
                        fleet.map { (socket, first) ->
                            val input = BufferedInputStream(socket.getInputStream())
                            val ids =
                                (1..50).map {
                                    socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".toByteArray())
                                    KeepAliveClient.readResponse(input).headers["x-worker-id"]
                                }
                            ids.toSet() shouldBe setOf(first)
                            first
                        }
                    println("balance split (connections per worker): ${byConnection.groupingBy { it }.eachCount()}")
                    byConnection.groupingBy { it }.eachCount().values.toList() shouldBe listOf(8, 8)
                } finally {
                    fleet.forEach { it.first.close() }
                }
            }
        }

        test("least-connections sends new connections away from a worker that holds many idle ones") {
            withCluster(balanced(BalanceStrategy.LEAST_CONNECTIONS), 1) { w, port ->
                val idle = List(20) { open(port) }
                val busy = idle.first().second
                idle.map { it.second }.toSet() shouldBe setOf(busy)
                w.scale(2)
                val loaded = w.workers.single { it.id.toString() == busy }
                withTimeout(30_000) { while (loaded.load.openConnections < 20) delay(50) }
                val fresh = List(10) { open(port) }
                try {
                    fresh.map { it.second }.filter { it == busy } shouldHaveSize 0
                } finally {
                    (idle + fresh).forEach { it.first.close() }
                }
            }
        }

        test("ip-hash keeps each client address on one worker across 100 connections") {
            withCluster(balanced(BalanceStrategy.IP_HASH), 2) { _, port ->
                val sources = (2..5).map { InetAddress.getByName("127.0.0.$it") }
                val seen = sources.associateWith { from -> (1..100).map { open(port, from).also { it.first.close() }.second }.toSet() }
                println("ip-hash: ${seen.mapKeys { it.key.hostAddress }}")
                seen.values.forEach { it shouldHaveSize 1 }
                seen.values.flatten().toSet() shouldHaveSize 2
            }
        }

        test("a rolling restart under keep-alive load in balance mode loses no request") {
            withCluster(balanced(), 2) { w, port ->
                val fleet = KeepAliveClient(port, clients = 6).start()
                val slow = KeepAliveClient(port, clients = 2, pauseMillis = 300).start()
                try {
                    withTimeout(60_000) { while (fleet.ok.get() < 300) delay(20) }
                    val before = w.workers.map { it.id }.toSet()
                    w.restart().rolledBack shouldBe false
                    val target = fleet.ok.get() + 300
                    withTimeout(60_000) { while (fleet.ok.get() < target) delay(20) }
                    w.workers.map { it.id }.intersect(before) shouldHaveSize 0
                } finally {
                    fleet.stop()
                    slow.stop()
                }
                (fleet.failures + slow.failures).forEach { println("failure: $it") }
                fleet.failed.get() shouldBe 0
                slow.failed.get() shouldBe 0
            }
        }

        test(
            "connections on their way to a SIGKILLed worker are closed or rerouted; the watcher's fd count stays flat over 10,000 transfers"
        ) {
            withCluster(balanced(), 2) { w, port ->
                fun fds() = File("/proc/self/fd").list()!!.size
                val answered = AtomicInteger()
                val closed = AtomicInteger()
                val hung = AtomicInteger()
                val done = AtomicInteger()
                fun client(n: Int) =
                    thread(name = "close-client") {
                        repeat(n) {
                            try {
                                Socket("127.0.0.1", port).use { s ->
                                    s.soTimeout = 15_000
                                    s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".toByteArray())
                                    KeepAliveClient.readResponse(BufferedInputStream(s.getInputStream()))
                                    answered.incrementAndGet()
                                }
                            } catch (e: SocketTimeoutException) {
                                hung.incrementAndGet()
                            } catch (e: IOException) {
                                closed.incrementAndGet()
                            }
                            done.incrementAndGet()
                        }
                    }
                client(200).join() // warm up: every pool and thread the watcher keeps exists now
                answered.set(0)
                closed.set(0)
                hung.set(0)
                val before = fds()
                done.set(0)
                val clients = List(4) { client(2_500) }
                var kills = 0
                for (at in listOf(2_000, 5_000, 8_000)) {
                    withTimeout(120_000) { while (done.get() < at) delay(5) }
                    val victim = w.workers.first()
                    victim.kill()
                    kills++
                    withTimeout(60_000) {
                        while (w.workers.size < 2 || w.workers.any { it.state != dev.kcluster.WorkerState.READY }) delay(20)
                    }
                }
                clients.forEach { it.join(120_000) }
                println(
                    "10,000 transfers, $kills workers SIGKILLed: answered=${answered.get()} closed=${closed.get()} hung=${hung.get()} fds $before -> ${fds()}"
                )
                hung.get() shouldBe 0
                (answered.get() + closed.get()) shouldBe 10_000
                answered.get().toLong() shouldBeGreaterThan 9_000
                withTimeout(10_000) { while (fds() > before + 16) delay(50) }
                (fds() - before) shouldBeLessThanOrEqual 16
            }
        }
    })
