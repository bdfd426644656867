package dev.kcluster.samples

import dev.kcluster.Cluster
import dev.kcluster.ClusterWatcher
import dev.kcluster.Message
import dev.kcluster.WatcherConfig
import dev.kcluster.decode
import dev.kcluster.netty.ClusterKtor
import dev.kcluster.send
import io.ktor.http.ContentType
import io.ktor.server.application.install
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.routing
import io.ktor.server.websocket.DefaultWebSocketServerSession
import io.ktor.server.websocket.WebSockets
import io.ktor.server.websocket.webSocket
import io.ktor.websocket.CloseReason
import io.ktor.websocket.Frame
import io.ktor.websocket.close
import io.ktor.websocket.readText
import java.io.Closeable
import java.io.File
import java.net.StandardProtocolFamily
import java.net.UnixDomainSocketAddress
import java.nio.channels.Channels
import java.nio.channels.ServerSocketChannel
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.Serializable
import org.slf4j.LoggerFactory

/** One chat line, as it travels worker → watcher → every worker. */
@Serializable public data class ChatLine(val from: String, val text: String)

/**
 * WebSocket chat on Ktor: a line from a client on any worker reaches every client on every worker through the watcher
 * ([ClusterWatcher.broadcast]); a local Unix socket lets an outside script push a line to everyone: `echo "maintenance at 5" | nc -U
 * chat.sock`.
 *
 * `Chat [--port N] [--workers N] [--service PATH]` (default 8080, 2, ./chat.sock). Open http://127.0.0.1:8080/ in two browsers, or connect
 * to ws://127.0.0.1:8080/chat?name=you.
 */
public object Chat {
    /** Entry point: the hub (watcher) when started by hand, the Ktor server in a worker. */
    @JvmStatic
    public fun main(args: Array<String>) {
        if (Cluster.isWorker) return worker(Args.int(args, "--port", 8080))
        val port = Args.int(args, "--port", 8080)
        val workers = Args.int(args, "--workers", 2)
        val service = Args.string(args, "--service") ?: "chat.sock"
        runBlocking {
            val watcher = ClusterWatcher(WatcherConfig(Chat::class.java.name) { args("--port", port.toString()) })
            Runtime.getRuntime().addShutdownHook(Thread { watcher.close() })
            ChatHub(watcher, File(service)).use { hub ->
                watcher.start(workers)
                LoggerFactory.getLogger(Chat::class.java)
                    .info("chat on http://127.0.0.1:{}/ ; push lines with: echo hi | nc -U {}", port, hub.servicePath)
                watcher.awaitTermination()
            }
        }
    }

    private fun worker(port: Int) = runBlocking {
        val id = Cluster.workerId
        val sessions = ConcurrentHashMap.newKeySet<DefaultWebSocketServerSession>()
        val anon = AtomicInteger()
        val server =
            ClusterKtor.start("127.0.0.1:$port") {
                install(WebSockets)
                routing {
                    get("/") { call.respondText(PAGE, ContentType.Text.Html) }
                    webSocket("/chat") {
                        val name = call.request.queryParameters["name"] ?: "anon-$id-${anon.incrementAndGet()}"
                        sessions += this
                        try {
                            send(Frame.Text("welcome $name, you are on worker $id"))
                            for (frame in incoming) {
                                if (frame is Frame.Text) Cluster.channel.send(ChatLine(name, frame.readText()))
                            }
                        } finally {
                            sessions -= this
                        }
                    }
                }
            }
        val relay =
            launch(Dispatchers.Default) {
                Cluster.channel.incoming.collect { m ->
                    val line = m.decode<ChatLine>()
                    for (s in sessions) launch { runCatching { s.send(Frame.Text("${line.from}: ${line.text}")) } }
                }
            }
        Cluster.awaitTermination()
        // Tell WebSocket clients to reconnect (to the other workers) before the HTTP drain.
        for (s in sessions) runCatching { s.close(CloseReason(CloseReason.Codes.GOING_AWAY, "server restarting; reconnect")) }
        relay.cancel()
        server.drain()
    }

    private val PAGE =
        """
        <!doctype html><meta charset="utf-8"><title>kcluster chat</title>
        <pre id="log"></pre><input id="msg" autofocus placeholder="say something, Enter">
        <script>
          const ws = new WebSocket(`ws://${'$'}{location.host}/chat`);
          ws.onmessage = e => { log.textContent += e.data + "\n"; };
          msg.onkeydown = e => { if (e.key === "Enter") { ws.send(msg.value); msg.value = ""; } };
        </script>
        """
            .trimIndent()
}

/**
 * The watcher side of [Chat]: relays every worker's [ChatLine] to all workers, and serves the Unix socket [servicePath] where each line a
 * local process writes goes to every client as from "service".
 */
public class ChatHub(private val watcher: ClusterWatcher, service: File) : Closeable {
    private val log = LoggerFactory.getLogger(ChatHub::class.java)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val server: ServerSocketChannel

    /** The service socket's path. */
    public val servicePath: String = service.absolutePath

    init {
        service.delete()
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(service.toPath()))
        scope.launch { watcher.messages.collect { m -> watcher.broadcast(m.message) } }
        Thread({ serviceLoop() }, "chat-service").apply {
            isDaemon = true
            start()
        }
    }

    private fun serviceLoop() {
        while (server.isOpen) {
            val client = runCatching { server.accept() }.getOrNull() ?: break
            Thread(
                    {
                        client.use { c ->
                            Channels.newInputStream(c).bufferedReader().lineSequence().forEach { line ->
                                if (line.isNotBlank()) {
                                    val n = watcher.broadcast(Message.of(ChatLine("service", line)))
                                    log.info("service line to {} workers", n)
                                }
                            }
                        }
                    },
                    "chat-service-client",
                )
                .apply {
                    isDaemon = true
                    start()
                }
        }
    }

    /** Closes the service socket and stops relaying. */
    override fun close() {
        runCatching { server.close() }
        File(servicePath).delete()
        scope.cancel()
    }
}
