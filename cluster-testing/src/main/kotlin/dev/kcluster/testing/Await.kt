package dev.kcluster.testing

import java.util.concurrent.BlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout

/**
 * Polls [probe] every [pollMillis] until it returns non-null, and returns that value. An exception from [probe] counts as "not yet" and is
 * named in the failure. Fails with an [AssertionError] naming [what] after [timeoutMillis]. Awaiting an observable condition, never
 * sleeping to synchronise.
 */
public suspend fun <T : Any> awaitValue(what: String, timeoutMillis: Long = 30_000, pollMillis: Long = 20, probe: suspend () -> T?): T {
    var last: Throwable? = null
    try {
        return withTimeout(timeoutMillis) {
            var value: T? = null
            while (value == null) {
                value =
                    try {
                        probe()
                    } catch (e: Exception) {
                        last = e
                        null
                    }
                if (value == null) delay(pollMillis)
            }
            value
        }
    } catch (e: TimeoutCancellationException) {
        throw AssertionError("timed out after $timeoutMillis ms waiting for: $what" + (last?.let { "; last error: $it" } ?: ""))
    }
}

/** Polls [condition] until it is true, like [awaitValue]. */
public suspend fun awaitUntil(what: String, timeoutMillis: Long = 30_000, pollMillis: Long = 20, condition: suspend () -> Boolean) {
    awaitValue(what, timeoutMillis, pollMillis) { if (condition()) Unit else null }
}

/**
 * Takes lines from this queue until one matches [predicate], and returns it; the lines before it are dropped. Fails with an
 * [AssertionError] naming [what] and the lines seen after [timeoutMillis].
 */
public fun BlockingQueue<String>.awaitLine(what: String, timeoutMillis: Long = 30_000, predicate: (String) -> Boolean): String {
    val deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)
    val seen = ArrayList<String>()
    while (true) {
        val left = deadline - System.nanoTime()
        val line =
            poll(left.coerceAtLeast(0), TimeUnit.NANOSECONDS)
                ?: throw AssertionError("no line for $what within $timeoutMillis ms; got ${seen.takeLast(20)}")
        if (predicate(line)) return line
        seen += line
    }
}
