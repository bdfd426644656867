package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import java.nio.ByteBuffer
import java.security.SecureRandom

/** HELLO = u16 version | i32 workerId | u16 keyLength | key. */
internal object Handshake {
    const val KEY_BYTES = 32

    /** The largest HELLO frame payload a watcher reads from an unauthenticated peer. */
    const val MAX_HELLO = 4096
    // Lazy: only a watcher makes keys, and seeding a SecureRandom costs a worker's start tens of milliseconds.
    private val random by lazy { SecureRandom() }

    fun newKey(): ByteArray = ByteArray(KEY_BYTES).also(random::nextBytes)

    fun hello(workerId: Int, key: ByteArray): ByteArray =
        PayloadWriter().u16(PROTOCOL_VERSION).i32(workerId).u16(key.size).also { w -> key.forEach { w.u8(it.toInt()) } }.toByteArray()

    class Hello(val version: Int, val workerId: Int, val key: ByteArray)

    /** Parses a HELLO payload; a malformed one is a [ProtocolException]. */
    fun parseHello(payload: ByteArray): Hello {
        val r = PayloadReader(payload, "HELLO")
        val version = r.u16()
        val id = r.i32()
        val n = r.u16()
        if (n > 1024) throw ProtocolException("HELLO key of $n bytes is too long")
        val key = ByteArray(n) { r.u8().toByte() }
        return Hello(version, id, key)
    }

    fun toHex(key: ByteArray): String = key.joinToString("") { "%02x".format(it) }

    fun fromHex(text: String): ByteArray {
        val t = text.trim()
        require(t.length % 2 == 0 && t.all { it in '0'..'9' || it in 'a'..'f' }) { "malformed key" }
        return ByteArray(t.length / 2) { t.substring(it * 2, it * 2 + 2).toInt(16).toByte() }
    }
}

/**
 * Reads one HELLO frame from an unauthenticated peer, incrementally, in exact-size heap buffers: a 5-byte header, then a payload of at most
 * [Handshake.MAX_HELLO] bytes, allocated only once the header says the frame is a HELLO that fits. It never asks for a byte past the frame,
 * so whatever the peer sends after HELLO stays in the socket for the connection's own reader.
 *
 * Use: read from the socket into [buffer], then call [advance]; repeat until it returns the HELLO.
 */
internal class HelloReader {
    private val header: ByteBuffer = ByteBuffer.allocate(HEADER_SIZE)
    private var payload: ByteBuffer? = null

    /** The buffer the next read fills; it always has room. */
    val buffer: ByteBuffer
        get() = payload ?: header

    /** Bytes received so far. */
    val received: Int
        get() = header.position() + (payload?.position() ?: 0)

    /** The parsed HELLO once the frame is complete, else null; a bad frame is a [ProtocolException]. */
    fun advance(): Handshake.Hello? {
        if (payload == null) {
            if (header.hasRemaining()) return null
            val length = header.getInt(0).toLong() and 0xffffffffL
            val code = header.get(4).toInt() and 0xff
            if (length > Handshake.MAX_HELLO) {
                throw ProtocolException("frame of $length bytes exceeds the handshake limit of ${Handshake.MAX_HELLO} bytes")
            }
            val type = FrameType.of(code) ?: throw ProtocolException("unknown frame type 0x%02x (%d-byte payload)".format(code, length))
            if (type != FrameType.HELLO) throw ProtocolException("expected HELLO, got $type")
            payload = ByteBuffer.allocate(length.toInt())
        }
        val p = payload!!
        if (p.hasRemaining()) return null
        return Handshake.parseHello(p.array())
    }

    /** The error for an end of stream now: before or inside the HELLO frame. */
    fun endOfStream(): ProtocolException =
        when {
            received == 0 -> ProtocolException("peer closed the connection before HELLO")
            payload == null -> ProtocolException("connection closed inside a frame header")
            else ->
                ProtocolException("connection closed mid-frame (${payload!!.position()} of ${payload!!.capacity()} payload bytes received)")
        }
}
