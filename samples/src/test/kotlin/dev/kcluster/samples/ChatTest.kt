package dev.kcluster.samples

import dev.kcluster.ClusterWatcher
import dev.kcluster.testing.awaitLine
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.File
import java.net.URI
import java.net.UnixDomainSocketAddress
import java.net.http.HttpClient
import java.net.http.WebSocket
import java.nio.ByteBuffer
import java.nio.channels.SocketChannel
import java.nio.file.Files
import java.util.concurrent.CompletionStage
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.withTimeout

class ChatTest :
    FunSpec({
        class Client(port: Int, name: String) : WebSocket.Listener {
            val lines = LinkedBlockingQueue<String>()
            private val text = StringBuilder()
            val ws: WebSocket =
                HttpClient.newHttpClient()
                    .newWebSocketBuilder()
                    .buildAsync(URI("ws://127.0.0.1:$port/chat?name=$name"), this)
                    .get(30, TimeUnit.SECONDS)

            override fun onText(webSocket: WebSocket, data: CharSequence, last: Boolean): CompletionStage<*>? {
                text.append(data)
                if (last) {
                    lines += text.toString()
                    text.clear()
                }
                webSocket.request(1)
                return null
            }

            fun await(predicate: (String) -> Boolean): String = lines.awaitLine("a matching chat line", 30_000, predicate)
        }

        test("a line from a client on one worker reaches a client on the other, and the service socket reaches both") {
            val dir = Files.createTempDirectory("chat")
            val service = File(dir.toFile(), "chat.sock")
            val watcher = ClusterWatcher(testConfig(Chat::class.java.name, "--port", "0"))
            val clients = ArrayList<Client>()
            try {
                ChatHub(watcher, service).use {
                    watcher.start(2)
                    val port = watcher.listeningAddresses.single().port
                    // connect until we hold a client on each worker
                    val byWorker = HashMap<String, Client>()
                    withTimeout(60_000) {
                        var n = 0
                        while (byWorker.size < 2) {
                            val c = Client(port, "user${n++}").also { clients += it }
                            val welcome = c.await { it.startsWith("welcome") }
                            byWorker.putIfAbsent(welcome.substringAfterLast(' '), c)
                        }
                    }
                    val (a, b) = byWorker.values.toList()
                    a.ws.sendText("hello from a", true).get(10, TimeUnit.SECONDS)
                    b.await { it.endsWith(": hello from a") }
                    a.await { it.endsWith(": hello from a") }

                    SocketChannel.open(UnixDomainSocketAddress.of(service.toPath())).use { s ->
                        s.write(ByteBuffer.wrap("maintenance at five\n".toByteArray()))
                    }
                    a.await { it == "service: maintenance at five" } shouldBe "service: maintenance at five"
                    b.await { it == "service: maintenance at five" } shouldBe "service: maintenance at five"
                }
            } finally {
                clients.forEach { runCatching { it.ws.abort() } }
                watcher.stop()
                dir.toFile().deleteRecursively()
            }
        }
    })
