package dev.kcluster

import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout

/** Reads the one line a listening EchoWorker answers with. */
fun ask(port: Int): String = Socket("127.0.0.1", port).use { it.getInputStream().bufferedReader().readLine() ?: "" }

class SharedSocketTest :
    FunSpec({
        test("three workers listening on port 0 share one port and all serve connections") {
            withWatcher(testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0"), 3) { w ->
                val ports =
                    withTimeout(30_000) { w.messages.map { it.message.asString() }.filter { it.startsWith("port ") }.take(3).toList() }
                ports.toSet() shouldHaveSize 1
                val port = ports.first().removePrefix("port ").toInt()
                w.listeningAddresses.single().port shouldBe port
                val seen = mutableSetOf<String>()
                var tries = 0
                while (seen.size < 3 && tries++ < 600) seen += ask(port)
                seen shouldBe w.workers.map { "worker ${it.id}" }.toSet()
            }
        }

        test("a bind error reaches the worker as an exception naming the address and the OS reason") {
            ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1")).use { taken ->
                withWatcher(testConfig(EchoWorker::class.java), 1) { w ->
                    w.workers.single().send(Message.ofString("listen-taken:${taken.localPort}"))
                    val reply = withTimeout(30_000) { w.messages.first() }.message.asString()
                    reply shouldStartWith "bind-error: BindException: cannot listen on 127.0.0.1:${taken.localPort}"
                    reply shouldContain "Address already in use"
                }
            }
        }

        test("the watcher hands accepted clients to a chosen worker with data") {
            withWatcher(testConfig(EchoWorker::class.java, "clients"), 2) { w ->
                java.nio.channels.ServerSocketChannel.open().bind(InetSocketAddress("127.0.0.1", 0)).use { server ->
                    for (target in w.workers) {
                        val client = java.nio.channels.SocketChannel.open(server.localAddress)
                        val accepted = server.accept()
                        target.sendSocket(accepted, Message.ofString("key-${target.id}"))
                        accepted.isOpen shouldBe false
                        client.socket().getInputStream().bufferedReader().readLine() shouldBe "worker ${target.id} got key-${target.id}"
                        client.close()
                    }
                }
            }
        }

        test("balance mode: plain blocking accept() in two workers takes the connections the watcher passes, in turn") {
            withWatcher(testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0") { socketMode(SocketMode.BALANCE) }, 2) { w ->
                val ports =
                    withTimeout(30_000) { w.messages.map { it.message.asString() }.filter { it.startsWith("port ") }.take(2).toList() }
                val port = w.listeningAddresses.single().port
                ports shouldBe listOf("port $port", "port $port")
                val answers = List(6) { ask(port) }
                answers.toSet() shouldBe w.workers.map { "worker ${it.id}" }.toSet()
                answers.zipWithNext().all { (a, b) -> a != b } shouldBe true
            }
        }

        test("reuse-port mode gives each worker its own socket on one port") {
            val port = ServerSocket(0).use { it.localPort }
            val config = testConfig(EchoWorker::class.java, "listen", "127.0.0.1:$port") { socketMode(SocketMode.REUSE_PORT) }
            withWatcher(config, 2) { w ->
                withTimeout(30_000) { w.messages.map { it.message.asString() }.filter { it.startsWith("port ") }.take(2).toList() } shouldBe
                    listOf("port $port", "port $port")
                w.listeningAddresses shouldHaveSize 0
                val seen = mutableSetOf<String>()
                var tries = 0
                while (seen.size < 2 && tries++ < 600) seen += ask(port)
                seen shouldHaveSize 2
            }
        }
    })
