package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import java.security.SecureRandom

/** HELLO = u16 version | i32 workerId | u16 keyLength | key. */
internal object Handshake {
    const val KEY_BYTES = 32
    private val random = SecureRandom()

    fun newKey(): ByteArray = ByteArray(KEY_BYTES).also(random::nextBytes)

    fun hello(workerId: Int, key: ByteArray): ByteArray =
        PayloadWriter().u16(PROTOCOL_VERSION).i32(workerId).u16(key.size).also { w -> key.forEach { w.u8(it.toInt()) } }.toByteArray()

    class Hello(val version: Int, val workerId: Int, val key: ByteArray)

    fun parseHello(frame: Frame?): Hello {
        if (frame == null) throw ProtocolException("peer closed the connection before HELLO")
        if (frame.type != FrameType.HELLO) throw ProtocolException("expected HELLO, got ${frame.type}")
        val r = PayloadReader(frame.payload, "HELLO")
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
