package dev.kcluster.testing

import dev.kcluster.Cluster
import dev.kcluster.Message
import dev.kcluster.internal.worker.WorkerRuntime
import java.net.InetSocketAddress
import java.nio.ByteBuffer
import java.nio.channels.ServerSocketChannel
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory

/**
 * Test worker, driven by messages from the watcher (replies are strings):
 * - any text → "echo:<text> from <id>"; "whoami" → "id <id> pid <pid>"; bytes → the bytes reversed
 * - "stop-yourself" → Cluster.stop(); "stall" → stops answering heartbeats; "throw" → main throws
 * - "listen-taken:<port>" → "bind-error: <message>" or "bound"; "version" → "version <V> from <id>" (args `version-file F`: F read at
 *   start) With args `listen ADDR` it serves a shared listener: each connection gets "worker <id>\n". With arg `clients` it answers sockets
 *   handed over by the watcher with "worker <id> got <data>\n". With args `exit-hook DIR` a shutdown hook writes DIR/hook-<pid>; with arg
 *   `selector` a thread blocks in `Selector.select()` (in native code, like a Netty event loop). On termination it stops accepting,
 *   finishes the connection in hand, and sends "bye <id>".
 */
object EchoWorker {
    private val retained = ArrayList<ByteArray>()

    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val log = LoggerFactory.getLogger(EchoWorker::class.java)
        val id = Cluster.workerId
        // "Code version": read at start, before anything else, like classes a JVM loads.
        val version = args.indexOf("version-file").let { v -> if (v >= 0) java.io.File(args[v + 1]).readText().trim() else "" }
        log.info("hello from worker {}", id)
        println("stdout line from worker $id")
        var server: ServerSocketChannel? = null
        var acceptor: Thread? = null
        val i = args.indexOf("listen")
        if (i >= 0) {
            val s = Cluster.serverSocketFactory().listen(args[i + 1])
            server = s
            Cluster.channel.send(Message.ofString("port ${(s.localAddress as InetSocketAddress).port}"))
            acceptor =
                Thread(
                        {
                            while (true) {
                                val c = runCatching { s.accept() }.getOrNull() ?: break
                                Cluster.countRequest()
                                c.use { it.write(ByteBuffer.wrap("worker $id\n".toByteArray())) }
                            }
                        },
                        "accept",
                    )
                    .apply { start() }
        }
        val h = args.indexOf("exit-hook")
        if (h >= 0) {
            val file = java.nio.file.Path.of(args[h + 1], "hook-" + ProcessHandle.current().pid())
            Runtime.getRuntime().addShutdownHook(Thread { java.nio.file.Files.writeString(file, "ran") })
        }
        val hm = args.indexOf("hook-message")
        if (hm >= 0) {
            // A program's own shutdown hook that outlasts kcluster's: it says it started, waits for the test's file, then sends again.
            val release = java.nio.file.Path.of(args[hm + 1], "release")
            Runtime.getRuntime()
                .addShutdownHook(
                    Thread {
                        Cluster.channel.send(Message.ofString("hook started"))
                        val until = System.nanoTime() + 20_000_000_000L
                        while (!java.nio.file.Files.exists(release) && System.nanoTime() < until) Thread.sleep(5)
                        Cluster.channel.send(Message.ofString("from a hook after a broadcast"))
                    }
                )
        }
        if ("selector" in args) {
            val selector = java.nio.channels.Selector.open()
            Thread({ while (true) selector.select() }, "blocked-in-epoll").apply {
                isDaemon = true
                start()
            }
        }
        if ("clients" in args) {
            launch(Dispatchers.IO) {
                Cluster.clientSockets.sockets.collect { t ->
                    t.socket.use { it.write(ByteBuffer.wrap("worker $id got ${t.data?.asString()}\n".toByteArray())) }
                }
            }
        }
        if ("ready-only-first" !in args || id == 1) Cluster.ready()
        val echo =
            launch(Dispatchers.IO) {
                while (true) {
                    val m = Cluster.channel.receive() ?: break
                    if (m.type == "kotlin.ByteArray") {
                        Cluster.channel.send(Message.ofBytes(m.bytes().reversedArray()))
                        continue
                    }
                    val text = m.asString()
                    val reply =
                        when {
                            text == "stop-yourself" -> {
                                Cluster.stop()
                                null
                            }
                            text == "stall" -> {
                                WorkerRuntime.current!!.stallHeartbeats = true
                                null
                            }
                            text == "throw" -> throw IllegalStateException("boom requested")
                            text == "whoami" -> "id $id pid ${ProcessHandle.current().pid()}"
                            text == "count" -> "count ${Cluster.workerCount}"
                            text == "version" -> "version $version from $id"
                            text.startsWith("retain-mb:") -> {
                                repeat(text.substringAfter(':').toInt()) { retained += ByteArray(1 shl 20) }
                                System.gc()
                                "retained ${retained.size} MB"
                            }
                            text.startsWith("listen-taken:") ->
                                try {
                                    Cluster.serverSocketFactory().listen("127.0.0.1:" + text.substringAfter(':')).close()
                                    "bound"
                                } catch (e: java.io.IOException) {
                                    "bind-error: ${e.javaClass.simpleName}: ${e.message}"
                                }
                            else -> "echo:$text from $id"
                        }
                    if (reply != null) Cluster.channel.send(Message.ofString(reply))
                }
            }
        Cluster.awaitTermination()
        server?.close()
        acceptor?.join()
        echo.cancel()
        Cluster.channel.send(Message.ofString("bye $id"))
    }
}
