package dev.kcluster.cli

import java.io.ByteArrayOutputStream
import java.io.Closeable
import java.io.IOException
import java.io.InputStream
import java.nio.ByteBuffer
import java.nio.channels.Channels
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import org.newsclub.net.unix.AFUNIXServerSocketChannel
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel
import org.slf4j.LoggerFactory

/** A control answer and what to do once it has been written (e.g. begin stopping). */
internal class Reply(val response: ControlResponse, val then: (() -> Unit)? = null)

/**
 * Serves the control protocol ([ControlProtocol]) on the AF_UNIX socket [path] (mode 0600) for peers with this process's uid only. One
 * thread per connection; a client that sends no request within [requestTimeoutMillis] is dropped. [close] removes the socket file.
 */
internal class ControlServer(
    private val path: Path,
    private val requestTimeoutMillis: Long = 10_000,
    private val handler: (ControlRequest) -> Reply,
) : Closeable {
    private val server: AFUNIXServerSocketChannel
    private val counter = AtomicInteger()
    private val timer = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "cluster-control-timer").apply { isDaemon = true } }
    @Volatile private var open = true

    init {
        val length = path.toString().toByteArray().size
        if (length > MAX_SOCKET_PATH) {
            throw IOException(
                "control socket path $path is $length bytes, more than AF_UNIX allows ($MAX_SOCKET_PATH); use a shorter --pid-file path"
            )
        }
        Files.deleteIfExists(path)
        server = AFUNIXServerSocketChannel.open()
        server.bind(AFUNIXSocketAddress.of(path.toFile()))
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"))
        Thread(::acceptLoop, "cluster-control-accept").apply {
            isDaemon = true
            start()
        }
    }

    private fun acceptLoop() {
        while (open) {
            val ch =
                try {
                    server.accept()
                } catch (e: IOException) {
                    if (open) log.warn("control socket accept failed: {}", e.toString())
                    if (!server.isOpen) return
                    continue
                }
            Thread({ serve(ch) }, "cluster-control-${counter.incrementAndGet()}").apply {
                isDaemon = true
                start()
            }
        }
    }

    private fun serve(ch: AFUNIXSocketChannel) {
        ch.use {
            val creds = runCatching { ch.peerCredentials }.getOrNull()
            if (creds == null || creds.uid != OWN_UID) {
                log.warn("refused control connection from uid {} (only uid {} may control this cluster)", creds?.uid, OWN_UID)
                write(ch, ControlResponse(ok = false, error = "permission denied: only uid $OWN_UID may control this cluster"))
                return
            }
            val deadline = timer.schedule({ runCatching { ch.close() } }, requestTimeoutMillis, TimeUnit.MILLISECONDS)
            val line =
                try {
                    readLine(Channels.newInputStream(ch).buffered())
                } catch (e: IOException) {
                    null
                } finally {
                    deadline.cancel(false)
                }
            if (line == null) return
            val reply =
                try {
                    val request = ControlProtocol.json.decodeFromString(ControlRequest.serializer(), line)
                    handler(request)
                } catch (e: kotlinx.serialization.SerializationException) {
                    Reply(ControlResponse(ok = false, error = "bad control request: ${e.message}"))
                } catch (e: IllegalArgumentException) {
                    Reply(ControlResponse(ok = false, error = "bad control request: ${e.message}"))
                } catch (e: Exception) {
                    log.warn("control request failed: {}", e.toString())
                    Reply(ControlResponse(ok = false, error = e.message ?: e.toString()))
                }
            write(ch, reply.response)
            reply.then?.invoke()
        }
    }

    private fun write(ch: AFUNIXSocketChannel, response: ControlResponse) {
        val bytes = (ControlProtocol.json.encodeToString(ControlResponse.serializer(), response) + "\n").toByteArray()
        runCatching {
            val buf = ByteBuffer.wrap(bytes)
            while (buf.hasRemaining()) ch.write(buf)
        }
    }

    override fun close() {
        if (!open) return
        open = false
        runCatching { server.close() }
        timer.shutdownNow()
        runCatching { Files.deleteIfExists(path) }
    }

    companion object {
        private val log = LoggerFactory.getLogger("dev.kcluster.cli.control")

        /** sun_path is 108 bytes on Linux, including the terminating NUL. */
        const val MAX_SOCKET_PATH = 107

        val OWN_UID: Long by lazy { (Files.getAttribute(Paths.get("/proc/self"), "unix:uid") as Int).toLong() }

        /** Reads one `\n`-terminated UTF-8 line of at most [ControlProtocol.MAX_LINE] bytes; null at EOF before any byte. */
        fun readLine(input: InputStream): String? {
            val out = ByteArrayOutputStream()
            while (true) {
                val b = input.read()
                if (b < 0) return if (out.size() == 0) null else out.toString(Charsets.UTF_8)
                if (b == '\n'.code) return out.toString(Charsets.UTF_8)
                if (out.size() >= ControlProtocol.MAX_LINE) throw IOException("control line longer than ${ControlProtocol.MAX_LINE} bytes")
                out.write(b)
            }
        }
    }
}
