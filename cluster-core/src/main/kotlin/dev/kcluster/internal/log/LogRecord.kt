package dev.kcluster.internal.log

import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter

/**
 * One log record as it travels from a worker to the watcher. Levels use SLF4J's int values.
 *
 * Plumbing shared by cluster-core and a logging backend that understands kcluster (`cluster-logging`); not an application API. Build
 * records from user objects with [capture], which never throws.
 */
@dev.kcluster.InternalKclusterApi
public class LogRecord(
    /** Epoch milliseconds. */
    public val timeMillis: Long,
    /** SLF4J level int (`org.slf4j.event.Level.toInt()`). */
    public val level: Int,
    /** Logger name. */
    public val logger: String,
    /** Name of the thread that logged. */
    public val thread: String,
    /** Formatted message. */
    public val message: String,
    /** Rendered stack trace, or null. */
    public val throwable: String?,
    /** MDC entries at the time of the call. */
    public val mdc: Map<String, String>,
) {
    internal fun encode(): ByteArray {
        val w =
            PayloadWriter(message.length + 128)
                .i64(timeMillis)
                .u8(level.coerceIn(0, 255))
                .str(clip(logger, 512))
                .str(clip(thread, 512))
                .blob(clip(message, MAX_TEXT).encodeToByteArray())
        val t = throwable
        w.bool(t != null)
        if (t != null) w.blob(clip(t, MAX_TEXT).encodeToByteArray())
        // Java callers can put nulls in a Map<String, String>; they are skipped, never thrown.
        val entries = (mdc as Map<String?, String?>).entries.filter { it.key != null && it.value != null }.take(MAX_MDC)
        w.u16(entries.size)
        entries.forEach { (k, v) ->
            w.str(clip(k!!, 256))
            w.str(clip(v!!, 4096))
        }
        return w.toByteArray()
    }

    public companion object {
        internal const val MAX_TEXT = 1 shl 20
        internal const val MAX_MDC = 64

        /**
         * Builds a record from a logging call's user objects without ever throwing: an argument or throwable whose
         * `toString()`/`getMessage()` fails (even with an exception whose own `toString()` fails) is replaced by a note naming its class;
         * causes, suppressed exceptions and cycles are rendered like `printStackTrace`, to a bounded depth.
         */
        @JvmStatic
        public fun capture(
            level: Int,
            logger: String?,
            pattern: String?,
            args: Array<out Any?>?,
            throwable: Throwable?,
            mdc: Map<String?, String?>?,
        ): LogRecord {
            val message = SafeText.format(pattern, args)
            val trace = throwable?.let { SafeText.stackTrace(it) }
            val context =
                try {
                    mdc?.entries?.mapNotNull { (k, v) -> if (k == null || v == null) null else k to v }?.toMap() ?: emptyMap()
                } catch (_: Throwable) {
                    emptyMap()
                }
            val thread =
                try {
                    Thread.currentThread().name
                } catch (_: Throwable) {
                    "?"
                }
            return LogRecord(System.currentTimeMillis(), level, logger ?: "null", thread, message, trace, context)
        }

        /**
         * What the watcher sees for [s] after a trip through the wire: cut to at most [max] chars' worth of UTF-8 (str() takes u16 lengths)
         * without splitting a surrogate pair, an unpaired surrogate replaced by U+FFFD.
         */
        internal fun clip(s: String, max: Int): String {
            val limit = if (max <= 4096) max / 4 * 3 else max
            if (s.length <= limit) return wellFormed(s)
            val end = if (Character.isHighSurrogate(s[limit - 1])) limit - 1 else limit
            return wellFormed(s.substring(0, end)) + "…[${s.length - end} chars cut]"
        }

        private fun wellFormed(s: String): String {
            var i = 0
            while (i < s.length) {
                val c = s[i]
                if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < s.length && Character.isLowSurrogate(s[i + 1])))
                    break
                i += if (Character.isHighSurrogate(c)) 2 else 1
            }
            if (i >= s.length) return s
            val b = StringBuilder(s.length).append(s, 0, i)
            while (i < s.length) {
                val c = s[i]
                if (Character.isHighSurrogate(c) && i + 1 < s.length && Character.isLowSurrogate(s[i + 1])) {
                    b.append(c).append(s[i + 1])
                    i += 2
                } else {
                    b.append(if (Character.isSurrogate(c)) '\uFFFD' else c)
                    i++
                }
            }
            return b.toString()
        }

        internal fun decode(payload: ByteArray): LogRecord {
            val r = PayloadReader(payload, "LOG")
            val time = r.i64()
            val level = r.u8()
            val logger = r.str()
            val thread = r.str()
            val message = r.blob().decodeToString()
            val throwable = if (r.bool()) r.blob().decodeToString() else null
            val mdc = LinkedHashMap<String, String>()
            repeat(r.u16()) { mdc[r.str()] = r.str() }
            return LogRecord(time, level, logger, thread, message, throwable, mdc)
        }
    }
}
