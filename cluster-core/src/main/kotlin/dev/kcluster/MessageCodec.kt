package dev.kcluster

/**
 * Turns values of one type into message bytes and back; the way Java programs send their own types.
 *
 * [type] names the type on the wire; the receiving side picks a codec (or a Kotlin serializer) by it. For a Kotlin `@Serializable` class,
 * use its serial name (by default the fully qualified class name) to interoperate with Kotlin code on the other side.
 *
 * ```java
 * MessageCodec<Order> codec = MessageCodec.of("com.shop.Order", Order.class, Order::toBytes, Order::fromBytes);
 * ```
 */
public interface MessageCodec<T> {
    /** The type name carried on the wire. */
    public val type: String

    /** Encodes [value]. */
    public fun encode(value: T): ByteArray

    /** Decodes what [encode] produced. */
    public fun decode(bytes: ByteArray): T

    public companion object {
        /** A codec from two functions. */
        @JvmStatic
        public fun <T> of(
            type: String,
            encoder: java.util.function.Function<T, ByteArray>,
            decoder: java.util.function.Function<ByteArray, T>,
        ): MessageCodec<T> =
            object : MessageCodec<T> {
                override val type: String = type

                override fun encode(value: T): ByteArray = encoder.apply(value)

                override fun decode(bytes: ByteArray): T = decoder.apply(bytes)
            }
    }
}
