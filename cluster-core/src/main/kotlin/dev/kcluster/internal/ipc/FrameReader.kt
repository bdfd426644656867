package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import dev.kcluster.internal.net.closeQuietly
import java.io.FileDescriptor
import java.nio.ByteBuffer
import java.util.ArrayDeque
import org.newsclub.net.unix.AFUNIXSocketChannel

/**
 * Parses frames from a blocking AF_UNIX channel and attributes received descriptors to frames.
 *
 * SCM_RIGHTS descriptors arrive with the read that returns the first byte of the frame they were sent with, never later, and Linux ends a
 * read after a message that carried descriptors. So descriptors are queued in arrival order and each fd-carrying frame takes the oldest
 * one.
 */
internal class FrameReader(
    private val channel: AFUNIXSocketChannel,
    private val maxFrame: Int,
    private val name: String,
    bufferSize: Int = 64 * 1024,
) {
    private val buf: ByteBuffer = ByteBuffer.allocateDirect(bufferSize).flip()
    private val fds = ArrayDeque<FileDescriptor>()

    init {
        channel.setAncillaryReceiveBufferSize(256)
    }

    /** The next frame, or null on a clean end of stream between frames. */
    fun next(): Frame? {
        while (true) {
            if (buf.remaining() >= HEADER_SIZE) {
                val pos = buf.position()
                val length = buf.getInt(pos).toLong() and 0xffffffffL
                val code = buf.get(pos + 4).toInt() and 0xff
                if (length > maxFrame) {
                    throw ProtocolException("$name: frame of $length bytes exceeds the limit of $maxFrame bytes")
                }
                val type =
                    FrameType.of(code) ?: throw ProtocolException("$name: unknown frame type 0x%02x (%d-byte payload)".format(code, length))
                val len = length.toInt()
                val payload: ByteArray
                if (buf.remaining() >= HEADER_SIZE + len) {
                    buf.position(pos + HEADER_SIZE)
                    payload = ByteArray(len).also { buf.get(it) }
                } else if (HEADER_SIZE + len > buf.capacity()) {
                    buf.position(pos + HEADER_SIZE)
                    payload = ByteArray(len)
                    var have = buf.remaining()
                    buf.get(payload, 0, have)
                    // The rest goes through the direct buffer, never past this frame's end: reading
                    // into a heap buffer makes junixsocket copy through a direct buffer anyway, and
                    // allocate a new one per read above 1 MiB.
                    while (have < len) {
                        buf.clear().limit(minOf(buf.capacity(), len - have))
                        val n = channel.read(buf)
                        buf.flip()
                        collectFds()
                        if (n < 0) throw truncated(len, have)
                        val got = buf.remaining()
                        buf.get(payload, have, got)
                        have += got
                    }
                } else {
                    if (!fill()) throw truncated(len, buf.remaining() - HEADER_SIZE)
                    continue
                }
                val fd =
                    if (type.carriesFd) {
                        synchronized(fds) { fds.pollFirst() }
                            ?: throw ProtocolException("$name: $type frame arrived without its file descriptor")
                    } else null
                return Frame(type, payload, fd)
            }
            if (!fill()) {
                if (buf.hasRemaining()) throw ProtocolException("$name: connection closed inside a frame header")
                return null
            }
        }
    }

    private fun truncated(len: Int, got: Int) =
        ProtocolException("$name: connection closed mid-frame ($got of $len payload bytes received)")

    /** Reads more bytes; false on end of stream. */
    private fun fill(): Boolean {
        buf.compact()
        try {
            val n = channel.read(buf)
            collectFds()
            return n >= 0
        } finally {
            buf.flip()
        }
    }

    private fun collectFds() {
        val received = channel.receivedFileDescriptors ?: return
        val queued =
            synchronized(fds) {
                received.forEach { fds.addLast(it) }
                fds.size
            }
        if (queued > 64) throw ProtocolException("$name: peer sent ${fds.size} file descriptors no frame claims")
    }

    /** Closes descriptors that arrived but were never claimed by a frame. */
    fun discard() {
        while (true) synchronized(fds) { fds.pollFirst() }?.closeQuietly() ?: break
    }
}
