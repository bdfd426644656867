package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import dev.kcluster.internal.net.closeQuietly
import java.io.Closeable
import java.io.FileDescriptor
import java.io.IOException
import java.nio.ByteBuffer
import java.nio.channels.ClosedChannelException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.locks.LockSupport
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock
import org.newsclub.net.unix.AFUNIXSocketChannel
import org.slf4j.LoggerFactory

/**
 * A framed, full-duplex IPC connection over a blocking AF_UNIX channel.
 *
 * Sends are thread safe and never interleave; a frame with a descriptor is flushed on its own `sendmsg` so the descriptor rides with its
 * first byte. Frames are coalesced into fewer writes in two cases, both under the one write lock (so order is kept): while other senders
 * wait for the lock (the last of them flushes), and during a burst — a send within [BURST_NANOS] of the previous one leaves its bytes for a
 * flusher thread, which writes everything that piled up at once. An isolated send (request/response traffic) is written at once, so round
 * trips pay no hand-off. Received frames are dispatched on one daemon reader thread to the handler registered for their type; a protocol
 * error or I/O error closes this connection only.
 */
internal class Connection(val channel: AFUNIXSocketChannel, val name: String, private val maxFrame: Int = DEFAULT_MAX_FRAME) : Closeable {
    private val reader = FrameReader(channel, maxFrame, name)
    private val writeLock = ReentrantLock()
    private val out: ByteBuffer = ByteBuffer.allocateDirect(64 * 1024)
    private val handlers = ConcurrentHashMap<FrameType, (Frame) -> Unit>()
    @Volatile private var thread: Thread? = null
    @Volatile private var flusher: Thread? = null
    @Volatile private var readingEnds = false
    @Volatile private var writesClosed = false
    private val flushRequested = AtomicBoolean()
    private var lastSendNanos = 0L

    /** Completes when the connection closes: null for a clean end of stream or [close], else the error. */
    val closed: CompletableFuture<Throwable?> = CompletableFuture()
    val isOpen: Boolean
        get() = !closed.isDone

    /** Reads one frame synchronously; only before [start] (handshakes). */
    fun readFrame(): Frame? = reader.next()

    fun on(type: FrameType, handler: (Frame) -> Unit) {
        handlers[type] = handler
    }

    /** The handler for [type], if any (to wrap it). */
    fun handler(type: FrameType): ((Frame) -> Unit)? = handlers[type]

    /** Starts the reader thread. */
    fun start(): Connection = apply {
        thread =
            Thread(::readLoop, "kcluster-ipc-$name").apply {
                isDaemon = true
                start()
            }
    }

    private fun readLoop() {
        var failure: Throwable? = null
        try {
            while (true) {
                val frame = reader.next() ?: break
                dev.kcluster.internal.metrics.IpcCounters.read(frame.payload.size)
                val handler = handlers[frame.type]
                if (handler == null) {
                    frame.fd?.closeQuietly()
                    log.warn("{}: ignoring unexpected {} frame", name, frame.type)
                    continue
                }
                try {
                    handler(frame)
                } catch (e: ProtocolException) {
                    throw e
                } catch (e: Exception) {
                    log.error("{}: handler for {} failed", name, frame.type, e)
                }
                if (readingEnds) break
            }
        } catch (e: Throwable) {
            if (isOpen) failure = e
        }
        if (!readingEnds) terminate(failure)
        reader.discard()
    }

    /** Whether the reader thread runs. */
    val reading: Boolean
        get() = thread?.isAlive == true

    /** Waits at most [timeoutMillis] for the reader thread to end (after [endReading]); returns at once when none was started. */
    fun awaitReadingEnd(timeoutMillis: Long) {
        thread?.join(timeoutMillis)
    }

    /**
     * Called by a frame's handler: the reader thread returns after it, and the connection stays open for sending. For a worker's exit, once
     * the watcher has sent its last frame ([sendLast]), so that no thread of kcluster's is blocked in native code then (the JVM's exit
     * waits about 300 ms for such threads).
     */
    fun endReading() {
        readingEnds = true
    }

    /**
     * Sends [type] as this side's last frame: later sends fail at once, without writing, and reading goes on to the peer's end of stream.
     * For the watcher's answer to a worker's BYE: a write after the worker stopped reading would fail, and junixsocket would then close the
     * socket, dropping what the worker still sends (its shutdown hooks' logs).
     */
    fun sendLast(type: FrameType) {
        writeLock.withLock {
            if (!isOpen || writesClosed) return
            send(type)
            flushPendingLocked()
            writesClosed = true
        }
    }

    /**
     * Sends one frame. Throws [ProtocolException] (nothing sent) for an oversized payload, and [IOException] when the connection is closed
     * or the write fails (the connection is then closed). On success the kernel holds its own reference to [fd]; the caller may close its
     * copy.
     */
    fun send(type: FrameType, payload: ByteArray = EMPTY, fd: FileDescriptor? = null) {
        if (payload.size > maxFrame) {
            throw ProtocolException("$name: $type payload of ${payload.size} bytes exceeds the limit of $maxFrame bytes")
        }
        require((fd != null) == type.carriesFd) { "$type ${if (type.carriesFd) "needs" else "takes no"} file descriptor" }
        writeLock.withLock {
            checkWritable()
            dev.kcluster.internal.metrics.IpcCounters.written(payload.size)
            try {
                if (fd != null) {
                    flushLocked()
                    channel.setOutboundFileDescriptors(fd)
                }
                if (out.remaining() < HEADER_SIZE + payload.size) flushLocked()
                out.putInt(payload.size).put(type.code.toByte())
                // Large payloads go through the direct buffer in chunks: junixsocket copies a heap
                // buffer into a direct one anyway, and allocates a new one per write above 1 MiB.
                var off = 0
                while (true) {
                    val n = minOf(out.remaining(), payload.size - off)
                    out.put(payload, off, n)
                    off += n
                    if (off == payload.size) break
                    flushLocked()
                }
                val now = System.nanoTime()
                val burst = now - lastSendNanos < BURST_NANOS
                lastSendNanos = now
                when {
                    fd != null -> flushLocked()
                    writeLock.hasQueuedThreads() -> {} // the next holder of the lock flushes
                    burst -> requestFlush()
                    else -> flushLocked()
                }
            } catch (e: IOException) {
                if (fd != null) runCatching { channel.setOutboundFileDescriptors() }
                terminate(e)
                throw e
            }
        }
    }

    /**
     * Sends [count] frames of [type], `payloads[i]` with `fds[i]`, with one `sendmsg` for all the descriptors (at most [MAX_FDS_PER_WRITE],
     * so that they fit the peer's ancillary buffer, and at most 64 KiB of frames). The peer's reader gives the descriptors to the frames in
     * order. Throws like [send]; on an [IOException] the caller cannot know which descriptors arrived, and the connection is closed.
     */
    fun sendWithFds(type: FrameType, payloads: Array<ByteArray?>, fds: Array<FileDescriptor?>, count: Int) {
        require(type.carriesFd && count in 1..MAX_FDS_PER_WRITE) { "$count $type frames" }
        val bytes = (0 until count).sumOf { HEADER_SIZE + payloads[it]!!.size }
        require(bytes <= out.capacity()) { "$count $type frames of $bytes bytes exceed one write" }
        writeLock.withLock {
            checkWritable()
            try {
                flushLocked()
                channel.setOutboundFileDescriptors(*Array(count) { fds[it]!! })
                for (i in 0 until count) {
                    val p = payloads[i]!!
                    dev.kcluster.internal.metrics.IpcCounters.written(p.size)
                    out.putInt(p.size).put(type.code.toByte()).put(p)
                }
                lastSendNanos = System.nanoTime()
                flushLocked()
            } catch (e: IOException) {
                runCatching { channel.setOutboundFileDescriptors() }
                terminate(e)
                throw e
            }
        }
    }

    /** Writes whatever is buffered. */
    fun flush() {
        writeLock.withLock { flushPendingLocked() }
    }

    private fun checkWritable() {
        if (!isOpen) throw ClosedChannelException()
        if (writesClosed) throw IOException("$name: the peer takes no more frames (it is exiting)")
    }

    private fun flushPendingLocked() {
        if (isOpen && out.position() > 0) flushLocked()
    }

    private fun requestFlush() {
        if (flushRequested.getAndSet(true)) return
        val t =
            flusher
                ?: Thread(::flushLoop, "kcluster-ipc-flush-$name").apply {
                    isDaemon = true
                    flusher = this
                    start()
                }
        LockSupport.unpark(t)
    }

    private fun flushLoop() {
        while (isOpen) {
            if (!flushRequested.getAndSet(false)) {
                LockSupport.park(this)
                continue
            }
            try {
                flush()
            } catch (e: IOException) {
                terminate(e)
            }
        }
    }

    private fun flushLocked() {
        out.flip()
        try {
            writeFully(out)
        } finally {
            out.clear()
        }
    }

    private fun writeFully(b: ByteBuffer) {
        while (b.hasRemaining()) channel.write(b)
    }

    private fun terminate(error: Throwable?) {
        if (closed.complete(error)) {
            flusher?.let(LockSupport::unpark)
            channel.closeQuietly()
            if (thread == null) reader.discard()
        }
    }

    /** Flushes what is buffered (waiting at most a second for a blocked writer), then closes. */
    override fun close() {
        if (isOpen && writeLock.tryLock(1, TimeUnit.SECONDS)) {
            try {
                runCatching { flushPendingLocked() }
            } finally {
                writeLock.unlock()
            }
        }
        terminate(null)
    }

    override fun toString(): String = "Connection($name)"

    companion object {
        val EMPTY = ByteArray(0)

        /** Descriptors per [sendWithFds]: 16 + 4 × 32 bytes of SCM_RIGHTS, well inside [FrameReader]'s 256-byte ancillary buffer. */
        const val MAX_FDS_PER_WRITE: Int = 32

        /** Sends closer together than this count as a burst and are coalesced by the flusher thread. */
        val BURST_NANOS: Long = System.getProperty("kcluster.ipc.burstNanos")?.toLongOrNull() ?: 10_000L
        private val log = LoggerFactory.getLogger(Connection::class.java)
    }
}
