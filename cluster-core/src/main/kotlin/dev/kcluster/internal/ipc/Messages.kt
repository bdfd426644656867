package dev.kcluster.internal.ipc

import dev.kcluster.Message

internal fun PayloadWriter.message(m: Message) = apply { str(m.type); blob(m.rawBody()) }

internal fun PayloadReader.message(): Message = Message.raw(str(), blob())

/** A MESSAGE frame payload. */
internal fun Message.toPayload(): ByteArray = PayloadWriter(size + type.length + 8).message(this).toByteArray()

internal fun messageFrom(frame: Frame): Message = PayloadReader(frame.payload, "MESSAGE").message()
