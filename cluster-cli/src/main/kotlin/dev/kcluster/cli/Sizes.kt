package dev.kcluster.cli

import com.github.ajalt.clikt.parameters.options.NullableOption
import com.github.ajalt.clikt.parameters.options.RawOption
import com.github.ajalt.clikt.parameters.options.convert

/** Sizes on the command line: bytes, or a number with a binary unit: `512k`, `512m`, `1g`, `300MiB`, `2GB` (all powers of 1024). */
internal object Sizes {
    private val format = Regex("""(\d+)\s*(?:([kmgt])(?:i?b)?|b)?""", RegexOption.IGNORE_CASE)

    /** Parses [text]; @throws IllegalArgumentException with an example of the format. */
    fun parse(text: String): Long {
        val m = format.matchEntire(text.trim()) ?: throw IllegalArgumentException("invalid size '$text' (use e.g. 512m, 1g or 300MiB)")
        val shift =
            when (m.groupValues[2].lowercase()) {
                "" -> 0
                "k" -> 10
                "m" -> 20
                "g" -> 30
                else -> 40
            }
        val n =
            m.groupValues[1].toLongOrNull()?.takeIf { it <= (Long.MAX_VALUE shr shift) }
                ?: throw IllegalArgumentException("size '$text' is too large")
        require(n > 0) { "size '$text' must be larger than zero" }
        return n shl shift
    }
}

/** Converts an option's value with [Sizes.parse]; a bad value is a usage error naming the option. */
internal fun RawOption.size(): NullableOption<Long, Long> =
    convert("SIZE") { text ->
        try {
            Sizes.parse(text)
        } catch (e: IllegalArgumentException) {
            fail(e.message ?: "invalid size '$text'")
        }
    }
