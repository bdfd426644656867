package dev.kcluster.internal.net

import dev.kcluster.InternalKclusterApi
import java.io.ByteArrayOutputStream
import java.io.InputStream
import java.net.InetSocketAddress
import java.net.Socket

/**
 * The one HTTP/1.1 `GET` kcluster sends to a server of the user's to run its request path once: the class cache's training run (from the
 * watcher, `ArchiveTrainer`) and a standby's warm-up (in the worker, `cluster-netty`'s `StandbyWarmup`). Both only need the server to have
 * served it; the answer is read so that the server finishes, and its end is found by parsing, since a handler need not close after
 * `Connection: close`.
 */
@InternalKclusterApi
public object HttpProbe {
    /** Connect and read timeout of a probe. */
    public const val TIMEOUT_MILLIS: Int = 2_000

    /** The most of an answer a probe reads. */
    public const val MAX_RESPONSE: Int = 64 * 1024

    /**
     * Sends `GET <path>` (`Host`: the peer's address, `User-Agent: <userAgent>`, `Connection: close`) on the connected [socket] and reads
     * the answer ([readResponse]); returns its status line. The caller closes the socket.
     */
    public fun get(socket: Socket, path: String, userAgent: String): String {
        socket.soTimeout = TIMEOUT_MILLIS
        val peer = socket.remoteSocketAddress as InetSocketAddress
        val request = "GET $path HTTP/1.1\r\nHost: ${peer.hostString}:${peer.port}\r\nUser-Agent: $userAgent\r\nConnection: close\r\n\r\n"
        socket.getOutputStream().write(request.toByteArray(Charsets.US_ASCII))
        return readResponse(socket.getInputStream())
    }

    /**
     * Reads one HTTP/1 response until it is complete (by Content-Length, the last chunk, no body for 204 and 304, or the server's close),
     * [MAX_RESPONSE] bytes or the stream's timeout, skipping informational (1xx) responses; returns its status line.
     */
    public fun readResponse(input: InputStream): String {
        val buf = ByteArrayOutputStream()
        val chunk = ByteArray(8192)
        while (!complete(buf) && buf.size() < MAX_RESPONSE) {
            val n = input.read(chunk)
            if (n < 0) break
            buf.write(chunk, 0, n)
        }
        val all = buf.toByteArray()
        val line = indexOf(all, CRLF)
        return if (line < 0) "no status line" else String(all, 0, line, Charsets.ISO_8859_1)
    }

    /** Whether [buf] holds a whole final response; drops the informational responses before it from [buf]. */
    private fun complete(buf: ByteArrayOutputStream): Boolean {
        while (true) {
            val bytes = buf.toByteArray()
            val headEnd = indexOf(bytes, HEAD_END)
            if (headEnd < 0) return false
            val head = String(bytes, 0, headEnd, Charsets.ISO_8859_1).lowercase()
            val status = head.substringBefore('\r').substringAfter(' ').take(3)
            val bodyStart = headEnd + HEAD_END.size
            if (status.startsWith("1")) { // 100 Continue and the like: the real answer follows
                buf.reset()
                buf.write(bytes, bodyStart, bytes.size - bodyStart)
                continue
            }
            val length = if (status == "204" || status == "304") 0 else header(head, "content-length")?.toLongOrNull()
            if (length != null) return bytes.size - bodyStart >= length
            if (header(head, "transfer-encoding")?.contains("chunked") == true) return endsWith(bytes, LAST_CHUNK)
            return false // until the server closes
        }
    }

    private val HEAD_END = "\r\n\r\n".toByteArray()
    private val CRLF = "\r\n".toByteArray()
    private val LAST_CHUNK = "0\r\n\r\n".toByteArray()

    private fun header(head: String, name: String): String? =
        head.lineSequence().drop(1).firstOrNull { it.startsWith("$name:") }?.substringAfter(':')?.trim()

    private fun indexOf(bytes: ByteArray, what: ByteArray): Int {
        outer@ for (i in 0..bytes.size - what.size) {
            for (j in what.indices) if (bytes[i + j] != what[j]) continue@outer
            return i
        }
        return -1
    }

    private fun endsWith(bytes: ByteArray, what: ByteArray): Boolean =
        bytes.size >= what.size && what.indices.all { bytes[bytes.size - what.size + it] == what[it] }
}
