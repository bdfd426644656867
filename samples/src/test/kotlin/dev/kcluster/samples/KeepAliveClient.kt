package dev.kcluster.samples

import dev.kcluster.testing.awaitUntil
import java.io.BufferedInputStream
import java.io.EOFException
import java.io.IOException
import java.io.InputStream
import java.net.InetSocketAddress
import java.net.Socket
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/**
 * A strict HTTP/1.1 keep-alive load client on raw sockets: it never retries, so a request that does not get a complete 200 response (reset,
 * EOF, refused connect, timeout) counts as failed. It honours `Connection: close` by reconnecting for the next request.
 */
class KeepAliveClient(
    private val serverPort: Int,
    private val clients: Int,
    private val pauseMillis: Long = 0,
    private val expectedBody: String = "Hello, World!",
) {
    val ok = AtomicLong()
    val failed = AtomicLong()
    val reconnects = AtomicInteger()
    val failures = ConcurrentLinkedQueue<String>()
    /** X-Worker-Id -> responses seen. */
    val byWorker = ConcurrentHashMap<String, AtomicLong>()
    @Volatile var lastWorkerIds: Set<String> = emptySet()
    @Volatile private var running = true
    private val threads = List(clients) { i -> Thread({ loop(i) }, "http-client-$i").apply { isDaemon = true } }
    private val recent = ConcurrentHashMap<Int, String>()

    fun start() = apply { threads.forEach { it.start() } }

    /** Waits until [n] more requests than now have been answered OK. */
    suspend fun awaitOk(n: Long, timeoutMillis: Long = 60_000) {
        val target = ok.get() + n
        awaitUntil("$n more OK responses (ok=${ok.get()}, failed=${failed.get()})", timeoutMillis) { ok.get() >= target }
    }

    fun stop() {
        running = false
        threads.forEach { it.join(30_000) }
    }

    /** Worker ids answered most recently, one per client thread. */
    fun recentWorkerIds(): Set<String> = recent.values.toSet()

    /** Forgets the recent answers and waits until every client thread has been answered again: the ids answered from now on. */
    suspend fun freshWorkerIds(timeoutMillis: Long = 60_000): Set<String> {
        recent.clear()
        awaitUntil("an answer on each of $clients client threads", timeoutMillis) { recent.size == clients }
        return recentWorkerIds()
    }

    private fun loop(i: Int) {
        var socket: Socket? = null
        var input: InputStream? = null
        val random = java.util.Random(i.toLong())
        while (running) {
            try {
                if (socket == null) {
                    socket =
                        Socket().apply {
                            soTimeout = 20_000
                            tcpNoDelay = true
                            connect(InetSocketAddress("127.0.0.1", serverPort), 20_000)
                        }
                    input = BufferedInputStream(socket.getInputStream())
                    reconnects.incrementAndGet()
                }
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".toByteArray())
                val r = readResponse(input!!)
                check(r.status == 200 && r.body == expectedBody) { "unexpected response ${r.status} '${r.body}'" }
                ok.incrementAndGet()
                val id = r.headers["x-worker-id"] ?: "?"
                byWorker.computeIfAbsent(id) { AtomicLong() }.incrementAndGet()
                recent[i] = id
                if (r.headers["connection"].equals("close", ignoreCase = true)) {
                    socket.close()
                    socket = null
                }
            } catch (e: Exception) {
                failed.incrementAndGet()
                if (failures.size < 20) failures += "${Thread.currentThread().name}: $e"
                runCatching { socket?.close() }
                socket = null
            }
            if (pauseMillis > 0) Thread.sleep(random.nextLong(pauseMillis + 1))
        }
        runCatching { socket?.close() }
    }

    class Response(val status: Int, val headers: Map<String, String>, val body: String)

    companion object {
        fun readResponse(input: InputStream): Response {
            val statusLine = readLine(input)
            val status = statusLine.split(' ').getOrNull(1)?.toIntOrNull() ?: throw IOException("bad status line '$statusLine'")
            val headers = HashMap<String, String>()
            while (true) {
                val line = readLine(input)
                if (line.isEmpty()) break
                val c = line.indexOf(':')
                headers[line.substring(0, c).trim().lowercase()] = line.substring(c + 1).trim()
            }
            val length = headers["content-length"]?.toInt() ?: 0
            val body = ByteArray(length)
            var n = 0
            while (n < length) {
                val r = input.read(body, n, length - n)
                if (r < 0) throw EOFException("EOF in body")
                n += r
            }
            return Response(status, headers, String(body))
        }

        private fun readLine(input: InputStream): String {
            val sb = StringBuilder()
            while (true) {
                val b = input.read()
                if (b < 0) throw EOFException("EOF after ${sb.length} bytes of a response line (connection closed without a response)")
                if (b == '\n'.code) return sb.toString().trimEnd('\r')
                sb.append(b.toChar())
            }
        }
    }
}
