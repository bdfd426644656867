package dev.kcluster.samples

import dev.kcluster.Cluster
import dev.kcluster.ClusterWatcher
import dev.kcluster.Message
import dev.kcluster.TransferredSocket
import dev.kcluster.WatcherConfig
import java.io.Closeable
import java.net.InetSocketAddress
import java.net.StandardSocketOptions
import java.nio.ByteBuffer
import java.nio.channels.Channels
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.util.concurrent.Executors
import kotlin.math.absoluteValue
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory

/**
 * The watcher itself accepts TCP clients and hands each one to a worker chosen by a key: the first line the client sends. The same key
 * always reaches the same worker slot (also after a rolling restart, when the slot's new worker takes over). Workers receive the sockets
 * from [Cluster.clientSockets] and run a line echo service.
 *
 * `StickyBalancer [--port N] [--workers N]` (default 9000, 2). Try: `printf 'alice\nhi\n' | nc 127.0.0.1 9000`.
 */
public object StickyBalancer {
    /** Entry point: the watcher when started by hand, the echo service in a worker. */
    @JvmStatic
    public fun main(args: Array<String>) {
        if (Cluster.isWorker) return worker()
        val port = Args.int(args, "--port", 9000)
        val workers = Args.int(args, "--workers", 2)
        runBlocking {
            val watcher = ClusterWatcher(WatcherConfig(StickyBalancer::class.java.name))
            Runtime.getRuntime().addShutdownHook(Thread { watcher.close() })
            watcher.start(workers)
            StickyFrontend(watcher, "127.0.0.1", port).use { front ->
                LoggerFactory.getLogger(StickyBalancer::class.java)
                    .info("sticky balancer on 127.0.0.1:{} with {} workers", front.port, workers)
                watcher.awaitTermination()
            }
        }
    }

    /** Worker side: answer each handed-over client; the key line (and any bytes after it) came as the message. */
    private fun worker() {
        val id = Cluster.workerId
        val pool = Executors.newCachedThreadPool { r -> Thread(r, "sticky-client").apply { isDaemon = true } }
        Thread(
                {
                    while (true) {
                        val t: TransferredSocket = Cluster.clientSockets.receiveBlocking() ?: break
                        pool.execute { serve(t, id) }
                    }
                },
                "sticky-receive",
            )
            .apply {
                isDaemon = true
                start()
            }
        Cluster.ready()
        Cluster.awaitTerminationBlocking()
    }

    private fun serve(t: TransferredSocket, id: Int?) {
        t.socket.use { ch ->
            val prefix = t.data?.bytes() ?: ByteArray(0)
            val key = prefix.decodeToString().substringBefore('\n').trim()
            val out = Channels.newOutputStream(ch)
            out.write("worker $id serves key '$key'\n".toByteArray())
            val reader = (prefix.decodeToString().substringAfter('\n', "").byteInputStream() + Channels.newInputStream(ch)).bufferedReader()
            while (true) {
                val line = reader.readLine() ?: break
                out.write("worker $id [$key]: $line\n".toByteArray())
            }
        }
    }

    private operator fun java.io.InputStream.plus(next: java.io.InputStream): java.io.InputStream = java.io.SequenceInputStream(this, next)
}

/**
 * The watcher's front door for [StickyBalancer]: accepts on [host]:[port], reads each client's first line (the key, at most 1 KiB, within
 * 10 s), and sends the socket with those bytes to the worker in slot `hash(key) mod workers`.
 */
public class StickyFrontend(private val watcher: ClusterWatcher, host: String, port: Int) : Closeable {
    private val log = LoggerFactory.getLogger(StickyFrontend::class.java)
    private val server =
        ServerSocketChannel.open().apply {
            setOption(StandardSocketOptions.SO_REUSEADDR, true)
            bind(InetSocketAddress(host, port))
        }
    private val pool = Executors.newCachedThreadPool { r -> Thread(r, "sticky-handoff").apply { isDaemon = true } }

    /** The bound port. */
    public val port: Int = (server.localAddress as InetSocketAddress).port

    init {
        Thread({ acceptLoop() }, "sticky-accept").apply {
            isDaemon = true
            start()
        }
    }

    private fun acceptLoop() {
        while (server.isOpen) {
            val client = runCatching { server.accept() }.getOrNull() ?: break
            pool.execute { handOff(client) }
        }
    }

    private fun handOff(client: SocketChannel) {
        try {
            client.socket().soTimeout = 10_000
            val prefix = readKeyLine(client)
            val key = prefix.decodeToString().substringBefore('\n').trim()
            val workers = watcher.workers
            check(workers.isNotEmpty()) { "no workers" }
            val worker = workers[key.hashCode().absoluteValue % workers.size]
            worker.sendSocket(client, Message.ofBytes(prefix))
            log.info("key '{}' -> worker {}", key, worker.id)
        } catch (e: Exception) {
            log.warn("cannot hand off {}: {}", runCatching { client.remoteAddress }.getOrNull(), e.toString())
            runCatching { client.close() }
        }
    }

    /** Reads up to the first newline (inclusive of whatever else arrived in the same reads). */
    private fun readKeyLine(client: SocketChannel): ByteArray {
        val buf = ByteBuffer.allocate(1024)
        val input = client.socket().getInputStream() // honours soTimeout
        while (buf.hasRemaining()) {
            val n = input.read(buf.array(), buf.position(), buf.remaining())
            if (n < 0) break
            buf.position(buf.position() + n)
            if (buf.array().take(buf.position()).contains('\n'.code.toByte())) break
        }
        return buf.array().copyOf(buf.position())
    }

    /** Stops accepting. */
    override fun close() {
        server.close()
        pool.shutdownNow()
    }
}
