package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import dev.kcluster.internal.net.closeQuietly
import java.io.Closeable
import java.nio.ByteBuffer
import java.nio.channels.SelectionKey
import java.nio.channels.Selector
import java.nio.file.Path
import java.security.MessageDigest
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.TimeUnit
import org.newsclub.net.unix.AFUNIXServerSocketChannel
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel
import org.slf4j.LoggerFactory

/**
 * The watcher's IPC listener: `<private 0700 dir>/ipc.sock`. Each expected worker is registered with a one-time key; a connecting peer must
 * send HELLO with that key (compared in constant time) within the handshake deadline, from this uid and from the pid that was spawned.
 *
 * Unauthenticated peers are cheap and bounded: one non-blocking handshake thread serves them all with a selector, reading each HELLO into
 * exact-size heap buffers (at most [Handshake.MAX_HELLO] bytes); a [Connection] with its buffers and threads exists only once WELCOME is
 * sent. At most [maxPending] handshakes are in progress; a new connection beyond that drops the oldest one still waiting for its HELLO (a
 * real worker sends HELLO as soon as it connects, so only a silent or slow peer can be that old). Rejections are logged rate limited.
 * Closing removes the directory.
 */
internal class IpcHub(
    private val handshakeMillis: Long = 10_000,
    private val maxFrame: Int = DEFAULT_MAX_FRAME,
    private val maxPending: Int = DEFAULT_MAX_PENDING,
) : Closeable {
    val dir: Path = PrivateDir.create()
    val socketPath: Path = dir.resolve("ipc.sock")
    private val server: AFUNIXServerSocketChannel =
        AFUNIXServerSocketChannel.open().apply {
            bind(AFUNIXSocketAddress.of(socketPath.toFile()), BACKLOG)
            configureBlocking(false)
        }
    private val selector: Selector = server.provider().openSelector()
    private val expected = ConcurrentHashMap<Int, Expected>()

    /** Handshakes in progress, in accept order, which is also deadline order. Handshake thread only. */
    private val pending = LinkedHashMap<SelectionKey, Peer>()
    private val tasks = ConcurrentLinkedQueue<Runnable>()
    private val drain: ByteBuffer = ByteBuffer.allocate(4096)
    private val rejections = RateLimitedLog("rejected IPC peer") { log.warn(it) }
    @Volatile private var open = true
    private val thread = Thread(::loop, "kcluster-ipc-handshake").apply { isDaemon = true }

    /** A worker we spawned and are waiting for. [pid] completes once the process exists. */
    inner class Expected(val workerId: Int, val key: ByteArray) {
        val pid = CompletableFuture<Long>()
        val connection = CompletableFuture<Connection>()

        fun cancel(reason: Throwable) {
            expected.remove(workerId, this)
            connection.completeExceptionally(reason)
        }
    }

    /** One unauthenticated peer: its channel, a HELLO reader of a few bytes, its deadline. */
    private class Peer(val ch: AFUNIXSocketChannel, val key: SelectionKey, val deadlineNanos: Long) {
        val hello = HelloReader()
        var verifying = false
    }

    init {
        server.register(selector, SelectionKey.OP_ACCEPT)
        thread.start()
    }

    fun expect(workerId: Int, key: ByteArray): Expected = Expected(workerId, key).also { expected[workerId] = it }

    private fun loop() {
        try {
            while (open) {
                val wait = waitMillis()
                if (wait == 0L) selector.select() else selector.select(wait)
                // Only the tasks queued before this round: a task may queue one for after the next select.
                repeat(tasks.size) { tasks.poll()?.run() }
                val keys = selector.selectedKeys()
                for (k in keys) {
                    if (!k.isValid) continue
                    if (k.isAcceptable) acceptSome() else if (k.isReadable) read(k.attachment() as Peer)
                }
                keys.clear()
                expire()
                rejections.tick()
            }
        } catch (e: Throwable) {
            if (open) log.error("IPC handshake loop failed: no worker can connect any more", e)
        } finally {
            rejections.flush()
            pending.values.forEach { it.ch.closeQuietly() }
            pending.clear()
            selector.closeQuietly()
        }
    }

    /** How long select may block: until the oldest handshake's deadline, or a log summary is due; 0 = no limit. */
    private fun waitMillis(): Long {
        if (!tasks.isEmpty()) return 1
        var wait = 0L
        pending.values.firstOrNull()?.let { wait = maxOf(1, TimeUnit.NANOSECONDS.toMillis(it.deadlineNanos - System.nanoTime()) + 1) }
        if (rejections.owesSummary) wait = if (wait == 0L) 1_000 else minOf(wait, 1_000)
        return wait
    }

    private fun acceptSome() {
        // A bounded number per round, so the handshakes accepted earlier get read before a flood
        // of new connections can push them out of the table.
        repeat(ACCEPTS_PER_ROUND) {
            val ch =
                try {
                    server.accept() ?: return
                } catch (e: Exception) {
                    if (open) rejections.warn("accept failed: $e")
                    return
                }
            try {
                if (pending.size >= maxPending) evictOldest()
                ch.configureBlocking(false)
                val key = ch.register(selector, SelectionKey.OP_READ)
                val peer = Peer(ch, key, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(handshakeMillis))
                key.attach(peer)
                pending[key] = peer
                read(peer) // a worker writes HELLO right after connecting: it is often here already
            } catch (e: Exception) {
                rejections.warn("could not register an IPC connection: $e")
                ch.closeQuietly()
            }
        }
    }

    private fun evictOldest() {
        val oldest = pending.values.firstOrNull { !it.verifying } ?: return
        reject(
            oldest,
            "dropped after ${TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - oldest.deadlineNanos) + handshakeMillis} ms " +
                "without a complete HELLO: $maxPending handshakes are in progress (a flood of connections?)",
        )
    }

    private fun read(peer: Peer) {
        try {
            while (true) {
                val n = peer.ch.read(peer.hello.buffer)
                // A hostile peer may attach descriptors to its bytes: never keep them.
                peer.ch.receivedFileDescriptors?.forEach { it.closeQuietly() }
                if (n < 0) throw peer.hello.endOfStream()
                if (n == 0) return
                val hello = peer.hello.advance() ?: continue
                verify(peer, hello)
                return
            }
        } catch (e: ProtocolException) {
            reject(peer, e.message ?: e.toString())
        } catch (e: Exception) {
            reject(peer, e.toString())
        }
    }

    private fun verify(peer: Peer, hello: Handshake.Hello) {
        if (hello.version != PROTOCOL_VERSION)
            throw ProtocolException("protocol version ${hello.version} is not supported (this watcher speaks $PROTOCOL_VERSION)")
        val exp = expected[hello.workerId]
        if (exp == null || !MessageDigest.isEqual(exp.key, hello.key)) throw ProtocolException("wrong key for worker ${hello.workerId}")
        val creds = peer.ch.peerCredentials
        if (creds.uid != PrivateDir.uid) throw ProtocolException("peer uid ${creds.uid} is not this watcher's uid ${PrivateDir.uid}")
        peer.verifying = true
        peer.key.interestOps(0)
        // The pid is known once the spawn returned; a peer that is faster than that waits for it
        // (until its deadline) without holding a thread.
        exp.pid.whenComplete { _, _ ->
            tasks.add(Runnable { if (pending[peer.key] === peer) admit(peer, hello.workerId, exp, creds.pid) })
            selector.wakeup()
        }
    }

    /** Last checks, then leaves the selector; the channel becomes a [Connection] on the next round. */
    private fun admit(peer: Peer, id: Int, exp: Expected, peerPid: Long) {
        try {
            val pid = exp.pid.getNow(null)
            if (peerPid > 0 && peerPid != pid) throw ProtocolException("peer pid $peerPid is not worker $id's pid $pid")
            if (!expected.remove(id, exp)) throw ProtocolException("worker $id is already connected")
        } catch (e: ProtocolException) {
            return reject(peer, e.message!!)
        } catch (e: Exception) {
            return reject(peer, "worker $id's process did not start: $e")
        }
        pending.remove(peer.key)
        peer.key.cancel()
        // A cancelled key leaves the selector at its next select: only then may the channel block.
        tasks.add(Runnable { welcome(peer.ch, id, exp) })
        selector.wakeup()
    }

    private fun welcome(ch: AFUNIXSocketChannel, id: Int, exp: Expected) {
        try {
            ch.configureBlocking(true)
            val conn = Connection(ch, "worker-$id", maxFrame)
            // A stopped worker's BYE: it reads nothing after our answer, so that answer is our last frame (Connection.sendLast).
            conn.on(FrameType.BYE) { runCatching { conn.sendLast(FrameType.BYE) } }
            conn.send(FrameType.WELCOME)
            if (!exp.connection.complete(conn)) conn.close()
        } catch (e: Exception) {
            rejections.warn("worker $id: WELCOME failed: $e")
            ch.closeQuietly()
            exp.connection.completeExceptionally(ProtocolException("worker $id: WELCOME failed: $e", e))
        }
    }

    private fun expire() {
        val now = System.nanoTime()
        while (true) {
            val peer = pending.values.firstOrNull() ?: return
            if (peer.deadlineNanos - now > 0) return
            reject(
                peer,
                if (peer.verifying) "worker process not known within $handshakeMillis ms" else "no HELLO within $handshakeMillis ms",
            )
        }
    }

    /** Logs (rate limited), answers REJECT if the socket takes it without blocking, and closes. */
    private fun reject(peer: Peer, reason: String) {
        if (pending.remove(peer.key) == null) return
        rejections.warn(reason)
        try {
            if (peer.ch.isOpen) {
                // Closing with unread bytes would reset the connection and lose the REJECT: take
                // what is already here (bounded; the channel is non-blocking).
                var drained = 0
                while (drained < MAX_DRAIN) {
                    val n = peer.ch.read(drain.clear())
                    peer.ch.receivedFileDescriptors?.forEach { it.closeQuietly() }
                    if (n <= 0) break
                    drained += n
                }
                val text = reason.encodeToByteArray().let { if (it.size > 1024) it.copyOf(1024) else it }
                peer.ch.write(
                    ByteBuffer.allocate(HEADER_SIZE + text.size).putInt(text.size).put(FrameType.REJECT.code.toByte()).put(text).flip()
                )
            }
        } catch (_: Exception) {
            // The peer is gone or not reading: nothing more to tell it.
        }
        peer.key.cancel()
        peer.ch.closeQuietly()
    }

    override fun close() {
        open = false
        selector.wakeup()
        server.closeQuietly()
        expected.values.forEach { it.connection.completeExceptionally(IllegalStateException("IPC hub closed")) }
        PrivateDir.delete(dir)
    }

    companion object {
        private val log = LoggerFactory.getLogger(IpcHub::class.java)

        /** Handshakes in progress at most; a few KiB each. */
        const val DEFAULT_MAX_PENDING = 256
        private const val ACCEPTS_PER_ROUND = 32
        private const val BACKLOG = 128
        private const val MAX_DRAIN = 64 * 1024

        /** Worker side: connects, proves itself with [key], and waits for WELCOME. */
        fun connect(
            path: Path,
            workerId: Int,
            key: ByteArray,
            timeoutMillis: Long = 10_000,
            maxFrame: Int = DEFAULT_MAX_FRAME,
        ): Connection {
            val ch = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path.toFile()))
            val conn = Connection(ch, "watcher", maxFrame)
            val timer =
                Thread {
                        try {
                            Thread.sleep(timeoutMillis)
                            conn.close()
                        } catch (_: InterruptedException) {}
                    }
                    .apply {
                        isDaemon = true
                        start()
                    }
            try {
                conn.send(FrameType.HELLO, Handshake.hello(workerId, key))
                val answer = conn.readFrame()
                when (answer?.type) {
                    FrameType.WELCOME -> {
                        // The watcher's answer to our BYE (see WorkerMain's shutdown hook), its last frame: the reader thread ends.
                        conn.on(FrameType.BYE) { conn.endReading() }
                        return conn
                    }
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
