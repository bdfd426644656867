package dev.kcluster

import kotlinx.serialization.DeserializationStrategy
import kotlinx.serialization.KSerializer
import kotlinx.serialization.SerializationException
import kotlinx.serialization.SerializationStrategy
import kotlinx.serialization.json.Json
import kotlinx.serialization.serializer

/**
 * One message between the watcher and a worker: a [type] name and its encoded bytes.
 *
 * Kotlin values go through kotlinx-serialization (JSON) and are typed by their serial name; `String` and `ByteArray` have fixed types
 * (`kotlin.String`, `kotlin.ByteArray`, the latter sent raw), so Java's [ofString]/[ofBytes] and Kotlin's `Message.of("…")` are
 * interchangeable.
 */
public class Message
private constructor(
    /** The type name: a serial name or a [MessageCodec.type]. */
    public val type: String,
    private val body: ByteArray,
) {
    /** The encoded size in bytes. */
    public val size: Int
        get() = body.size

    /** A copy of the encoded bytes. */
    public fun bytes(): ByteArray = body.copyOf()

    internal fun rawBody(): ByteArray = body

    /** True when this message was made from a value with [serializer]'s serial name. */
    public fun isOf(serializer: KSerializer<*>): Boolean = type == serializer.descriptor.serialName

    /** Decodes with a kotlinx-serialization [deserializer]. @throws IllegalArgumentException on a type mismatch or bad bytes. */
    public fun <T> decode(deserializer: DeserializationStrategy<T>): T {
        val expected = deserializer.descriptor.serialName
        require(type == expected) { "message is of type '$type', not '$expected'" }
        @Suppress("UNCHECKED_CAST") if (type == BYTES) return body.copyOf() as T
        return try {
            json.decodeFromString(deserializer, body.decodeToString())
        } catch (e: SerializationException) {
            throw IllegalArgumentException("cannot decode '$type' message: ${e.message}", e)
        }
    }

    /** Decodes with a [codec]. @throws IllegalArgumentException on a type mismatch. */
    public fun <T> decode(codec: MessageCodec<T>): T {
        require(type == codec.type) { "message is of type '$type', not '${codec.type}'" }
        return codec.decode(body.copyOf())
    }

    /** The text of a `kotlin.String` message. @throws IllegalArgumentException for another type. */
    public fun asString(): String = decode(stringSerializer)

    override fun toString(): String = "Message($type, $size bytes)"

    public companion object {
        internal const val BYTES: String = "kotlin.ByteArray"
        internal val json: Json = Json {
            encodeDefaults = true
            ignoreUnknownKeys = true
        }

        /** Encodes [value] with a kotlinx-serialization [serializer]. */
        @JvmStatic
        public fun <T> of(value: T, serializer: SerializationStrategy<T>): Message {
            val type = serializer.descriptor.serialName
            if (type == BYTES && value is ByteArray) return Message(BYTES, value.copyOf())
            return Message(type, json.encodeToString(serializer, value).encodeToByteArray())
        }

        /** Encodes [value] with its kotlinx-serialization serializer. */
        public inline fun <reified T> of(value: T): Message = of(value, serializer<T>())

        /** A `kotlin.String` message. */
        @JvmStatic public fun ofString(text: String): Message = of(text, stringSerializer)

        /** A `kotlin.ByteArray` message; the bytes are copied and sent raw. */
        @JvmStatic public fun ofBytes(bytes: ByteArray): Message = Message(BYTES, bytes.copyOf())

        /** Encodes [value] with a [codec]. */
        @JvmStatic public fun <T> of(value: T, codec: MessageCodec<T>): Message = Message(codec.type, codec.encode(value))

        internal fun raw(type: String, body: ByteArray): Message = Message(type, body)
    }
}

private val stringSerializer: KSerializer<String> = serializer<String>()

/** Decodes this message as [T]. */
public inline fun <reified T> Message.decode(): T = decode(serializer<T>())

/** True when this message holds a [T]. */
public inline fun <reified T> Message.isOf(): Boolean = isOf(serializer<T>())
