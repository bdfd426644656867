package dev.kcluster.internal.ipc

import dev.kcluster.Message

/** Writes [m] laid out as a MESSAGE frame payload ([toPayload], the one definition of the layout), e.g. inside CLIENT_SOCKET. */
internal fun PayloadWriter.message(m: Message) = raw(m.toPayload())

internal fun PayloadReader.message(): Message = Message.raw(str(), blob())

/** A MESSAGE frame payload, `str type | blob body` (read by [PayloadReader.message]), in one exact-size copy of the body. */
internal fun Message.toPayload(): ByteArray {
    val name = type.encodeToByteArray()
    require(name.size <= 0xffff) { "message type name of ${name.size} bytes does not fit a u16 length" }
    val body = rawBody()
    return java.nio.ByteBuffer.allocate(2 + name.size + 4 + body.size)
        .putShort(name.size.toShort())
        .put(name)
        .putInt(body.size)
        .put(body)
        .array()
}

internal fun messageFrom(frame: Frame): Message = PayloadReader(frame.payload, "MESSAGE").message()
