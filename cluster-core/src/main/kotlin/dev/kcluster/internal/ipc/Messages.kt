package dev.kcluster.internal.ipc

import dev.kcluster.Message

internal fun PayloadWriter.message(m: Message) = apply { str(m.type); blob(m.rawBody()) }

internal fun PayloadReader.message(): Message = Message.raw(str(), blob())

/** A MESSAGE frame payload, laid out as [PayloadWriter.message] writes it, in one exact-size copy of the body. */
internal fun Message.toPayload(): ByteArray {
    val name = type.encodeToByteArray()
    require(name.size <= 0xffff) { "message type name of ${name.size} bytes does not fit a u16 length" }
    val body = rawBody()
    return java.nio.ByteBuffer.allocate(2 + name.size + 4 + body.size)
        .putShort(name.size.toShort()).put(name).putInt(body.size).put(body).array()
}

internal fun messageFrom(frame: Frame): Message = PayloadReader(frame.payload, "MESSAGE").message()
