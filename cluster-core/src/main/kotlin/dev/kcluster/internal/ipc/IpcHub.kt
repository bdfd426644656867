package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import dev.kcluster.internal.net.closeQuietly
import org.newsclub.net.unix.AFUNIXServerSocketChannel
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel
import org.slf4j.LoggerFactory
import java.io.Closeable
import java.nio.file.Path
import java.security.MessageDigest
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/**
 * The watcher's IPC listener: `<private 0700 dir>/ipc.sock`. Each expected worker is registered
 * with a one-time key; a connecting peer must send HELLO with that key (compared in constant
 * time) within the handshake deadline, from this uid and from the pid that was spawned. Handshakes
 * run concurrently, so a silent or wrong peer never delays the others. Closing removes the directory.
 */
internal class IpcHub(
    private val handshakeMillis: Long = 10_000,
    private val maxFrame: Int = DEFAULT_MAX_FRAME,
) : Closeable {
    val dir: Path = PrivateDir.create()
    val socketPath: Path = dir.resolve("ipc.sock")
    private val server: AFUNIXServerSocketChannel = AFUNIXServerSocketChannel.open().apply {
        bind(AFUNIXSocketAddress.of(socketPath.toFile()))
    }
    private val expected = ConcurrentHashMap<Int, Expected>()
    private val counter = AtomicInteger()
    private val handshakes = Executors.newCachedThreadPool { r -> Thread(r, "kcluster-handshake-${counter.incrementAndGet()}").apply { isDaemon = true } }
    private val timer: ScheduledExecutorService = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "kcluster-handshake-timer").apply { isDaemon = true } }
    @Volatile private var open = true

    /** A worker we spawned and are waiting for. [pid] completes once the process exists. */
    inner class Expected(val workerId: Int, val key: ByteArray) {
        val pid = CompletableFuture<Long>()
        val connection = CompletableFuture<Connection>()
        fun cancel(reason: Throwable) {
            expected.remove(workerId, this)
            connection.completeExceptionally(reason)
        }
    }

    init {
        Thread(::acceptLoop, "kcluster-ipc-accept").apply { isDaemon = true; start() }
    }

    fun expect(workerId: Int, key: ByteArray): Expected = Expected(workerId, key).also { expected[workerId] = it }

    private fun acceptLoop() {
        while (open) {
            val ch = try {
                server.accept()
            } catch (e: Exception) {
                if (open) log.warn("IPC accept failed: {}", e.toString())
                continue
            }
            handshakes.execute { handshake(ch) }
        }
    }

    private fun handshake(ch: AFUNIXSocketChannel) {
        val conn = Connection(ch, "handshake", maxFrame = 4096)
        val deadline = timer.schedule({ conn.close() }, handshakeMillis, TimeUnit.MILLISECONDS)
        try {
            val hello = try {
                Handshake.parseHello(conn.readFrame())
            } catch (e: Exception) {
                throw ProtocolException(if (!conn.isOpen) "no HELLO within $handshakeMillis ms" else e.message ?: e.toString(), e)
            }
            if (hello.version != PROTOCOL_VERSION) throw ProtocolException("protocol version ${hello.version} is not supported (this watcher speaks $PROTOCOL_VERSION)")
            val exp = expected[hello.workerId]
            if (exp == null || !MessageDigest.isEqual(exp.key, hello.key)) throw ProtocolException("wrong key for worker ${hello.workerId}")
            val creds = ch.peerCredentials
            if (creds.uid != PrivateDir.uid) throw ProtocolException("peer uid ${creds.uid} is not this watcher's uid ${PrivateDir.uid}")
            val pid = exp.pid.get(handshakeMillis, TimeUnit.MILLISECONDS)
            if (creds.pid > 0 && creds.pid != pid) throw ProtocolException("peer pid ${creds.pid} is not worker ${hello.workerId}'s pid $pid")
            if (!expected.remove(hello.workerId, exp)) throw ProtocolException("worker ${hello.workerId} is already connected")
            deadline.cancel(false)
            val named = Connection(ch, "worker-${hello.workerId}", maxFrame)
            named.send(FrameType.WELCOME)
            exp.connection.complete(named)
        } catch (e: Exception) {
            deadline.cancel(false)
            log.warn("rejected IPC peer: {}", e.message)
            if (conn.isOpen) runCatching { conn.send(FrameType.REJECT, (e.message ?: "rejected").encodeToByteArray()) }
            conn.close()
        }
    }

    override fun close() {
        open = false
        server.closeQuietly()
        handshakes.shutdownNow()
        timer.shutdownNow()
        expected.values.forEach { it.connection.completeExceptionally(IllegalStateException("IPC hub closed")) }
        PrivateDir.delete(dir)
    }

    companion object {
        private val log = LoggerFactory.getLogger(IpcHub::class.java)

        /** Worker side: connects, proves itself with [key], and waits for WELCOME. */
        fun connect(path: Path, workerId: Int, key: ByteArray, timeoutMillis: Long = 10_000, maxFrame: Int = DEFAULT_MAX_FRAME): Connection {
            val ch = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path.toFile()))
            val conn = Connection(ch, "watcher", maxFrame)
            val timer = Thread {
                try { Thread.sleep(timeoutMillis); conn.close() } catch (_: InterruptedException) { }
            }.apply { isDaemon = true; start() }
            try {
                conn.send(FrameType.HELLO, Handshake.hello(workerId, key))
                val answer = conn.readFrame()
                when (answer?.type) {
                    FrameType.WELCOME -> return conn
                    FrameType.REJECT -> throw ProtocolException("watcher rejected this worker: ${answer.payload.decodeToString()}")
                    null -> throw ProtocolException("watcher closed the connection during the handshake")
                    else -> throw ProtocolException("expected WELCOME, got ${answer.type}")
                }
            } catch (e: Exception) {
                conn.close()
                throw e
            } finally {
                timer.interrupt()
            }
        }
    }
}
