package dev.kcluster.cli

import com.github.ajalt.clikt.parameters.options.NullableOption
import com.github.ajalt.clikt.parameters.options.RawOption
import com.github.ajalt.clikt.parameters.options.convert
import java.time.Duration

/** Durations on the command line: `500ms`, `10s`, `2m`, `1h`, or sums such as `1m30s`. */
internal object Durations {
    private val part = Regex("""(\d+)(ms|s|m|h)""")
    private val whole = Regex("""(?:\d+(?:ms|s|m|h))+""")

    /** Parses [text]; @throws IllegalArgumentException with an example of the format. */
    fun parse(text: String): Duration {
        val t = text.trim().lowercase()
        require(whole.matches(t)) { "invalid duration '$text' (use e.g. 500ms, 10s, 2m, 1h or 1m30s)" }
        var total = Duration.ZERO
        for (m in part.findAll(t)) {
            val n = m.groupValues[1].toLongOrNull() ?: throw IllegalArgumentException("duration '$text' is too large")
            total =
                total.plus(
                    when (m.groupValues[2]) {
                        "ms" -> Duration.ofMillis(n)
                        "s" -> Duration.ofSeconds(n)
                        "m" -> Duration.ofMinutes(n)
                        else -> Duration.ofHours(n)
                    }
                )
        }
        require(!total.isZero) { "duration '$text' must be longer than zero" }
        return total
    }

    /** `1m30s`-style text for [d]. */
    fun format(d: Duration): String {
        val ms = d.toMillis()
        if (ms < 1000) return "${ms}ms"
        val s = ms / 1000
        return when {
            s < 60 -> "${s}s"
            s < 3600 -> "${s / 60}m${(s % 60).takeIf { it > 0 }?.let { "${it}s" } ?: ""}"
            s < 86_400 -> "${s / 3600}h${((s % 3600) / 60).takeIf { it > 0 }?.let { "${it}m" } ?: ""}"
            else -> "${s / 86_400}d${((s % 86_400) / 3600).takeIf { it > 0 }?.let { "${it}h" } ?: ""}"
        }
    }
}

/** Converts an option's value with [Durations.parse]; a bad value is a usage error naming the option. */
internal fun RawOption.duration(): NullableOption<Duration, Duration> =
    convert("DURATION") { text ->
        try {
            Durations.parse(text)
        } catch (e: IllegalArgumentException) {
            fail(e.message ?: "invalid duration '$text'")
        }
    }
