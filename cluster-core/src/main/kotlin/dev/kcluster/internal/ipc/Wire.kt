package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import java.io.ByteArrayOutputStream
import java.io.DataOutputStream
import java.nio.BufferUnderflowException
import java.nio.ByteBuffer
import java.nio.charset.CharacterCodingException

/** Builds a frame payload: big-endian numbers, u16-length-prefixed UTF-8 strings, u32-prefixed blobs. */
internal class PayloadWriter(size: Int = 64) {
    private val bytes = ByteArrayOutputStream(size)
    private val out = DataOutputStream(bytes)

    fun u8(v: Int) = apply { out.writeByte(v) }

    fun u16(v: Int) = apply { out.writeShort(v) }

    fun i32(v: Int) = apply { out.writeInt(v) }

    fun i64(v: Long) = apply { out.writeLong(v) }

    fun bool(v: Boolean) = apply { out.writeBoolean(v) }

    fun str(v: String) = apply {
        val b = v.encodeToByteArray()
        require(b.size <= 0xffff) { "string of ${b.size} bytes does not fit a u16 length" }
        out.writeShort(b.size)
        out.write(b)
    }

    fun blob(v: ByteArray) = apply {
        out.writeInt(v.size)
        out.write(v)
    }

    fun raw(v: ByteArray) = apply { out.write(v) }

    fun toByteArray(): ByteArray = bytes.toByteArray()
}

/** Reads what [PayloadWriter] wrote; any shortfall is a [ProtocolException] naming the frame. */
internal class PayloadReader(private val payload: ByteArray, private val what: String) {
    private val buf = ByteBuffer.wrap(payload)

    private inline fun <T> read(block: () -> T): T =
        try {
            block()
        } catch (e: BufferUnderflowException) {
            throw ProtocolException("malformed $what frame: payload of ${payload.size} bytes is too short")
        } catch (e: IllegalArgumentException) {
            throw ProtocolException("malformed $what frame: ${e.message}")
        } catch (e: CharacterCodingException) {
            throw ProtocolException("malformed $what frame: a string is not valid UTF-8")
        }

    fun u8(): Int = read { buf.get().toInt() and 0xff }

    fun u16(): Int = read { buf.short.toInt() and 0xffff }

    fun i32(): Int = read { buf.int }

    fun i64(): Long = read { buf.long }

    fun bool(): Boolean = u8() != 0

    fun str(): String = read {
        val n = buf.short.toInt() and 0xffff
        val b = ByteArray(n)
        buf.get(b)
        b.decodeToString(throwOnInvalidSequence = true)
    }

    fun blob(): ByteArray = read {
        val n = buf.int
        require(n in 0..buf.remaining()) { "blob length $n exceeds the ${buf.remaining()} bytes left" }
        ByteArray(n).also { buf.get(it) }
    }

    val remaining: Int
        get() = buf.remaining()
}
