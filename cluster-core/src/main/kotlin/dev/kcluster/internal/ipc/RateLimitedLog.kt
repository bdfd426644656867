package dev.kcluster.internal.ipc

/**
 * Passes at most [burst] lines per [windowMillis]; the rest of a window is counted and reported in one summary line when the next window
 * opens (or at [flush]), so a flood of hostile peers costs a few log lines, not one per peer. Not thread safe: one thread logs.
 */
internal class RateLimitedLog(
    private val what: String,
    private val burst: Int = 5,
    private val windowMillis: Long = 10_000,
    private val clock: () -> Long = System::currentTimeMillis,
    private val sink: (String) -> Unit,
) {
    private var windowStart = Long.MIN_VALUE
    private var inWindow = 0
    private var suppressed = 0L
    private var lastSuppressed: String? = null

    fun warn(text: String) {
        val now = clock()
        if (windowStart == Long.MIN_VALUE || now - windowStart >= windowMillis) {
            flush()
            windowStart = now
            inWindow = 0
        }
        if (inWindow < burst) {
            inWindow++
            sink("$what: $text")
            if (inWindow == burst) sink("$what: more than $burst in ${windowMillis / 1000} s; counting the rest")
        } else {
            suppressed++
            lastSuppressed = text
        }
    }

    /** True while a summary is owed: call [tick] within a window's length. */
    val owesSummary: Boolean
        get() = suppressed > 0

    /** Emits the summary once the window that suppressed lines is over. */
    fun tick() {
        if (suppressed > 0 && clock() - windowStart >= windowMillis) flush()
    }

    /** Reports what the current window suppressed, if anything. */
    fun flush() {
        if (suppressed > 0) {
            sink("$what: $suppressed more in the last ${windowMillis / 1000} s (last: $lastSuppressed)")
            suppressed = 0
            lastSuppressed = null
        }
    }
}
