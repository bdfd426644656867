package dev.kcluster.internal.log

import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter

/** One log record as it travels from a worker to the watcher. Levels use SLF4J's int values. */
internal class LogRecord(
    val timeMillis: Long,
    val level: Int,
    val logger: String,
    val thread: String,
    val message: String,
    val throwable: String?,
    val mdc: Map<String, String>,
) {
    fun encode(): ByteArray {
        val w = PayloadWriter(message.length + 128).i64(timeMillis).u8(level).str(clip(logger, 512)).str(clip(thread, 512))
            .blob(clip(message, MAX_TEXT).encodeToByteArray())
        w.bool(throwable != null)
        if (throwable != null) w.blob(clip(throwable, MAX_TEXT).encodeToByteArray())
        val entries = mdc.entries.take(64)
        w.u16(entries.size)
        entries.forEach { (k, v) -> w.str(clip(k, 256)); w.str(clip(v, 4096)) }
        return w.toByteArray()
    }

    companion object {
        private const val MAX_TEXT = 1 shl 20

        /** Cuts [s] to at most [max] chars worth of UTF-8 bytes (str() takes u16 lengths). */
        private fun clip(s: String, max: Int): String {
            val limit = if (max <= 4096) max / 4 * 3 else max
            return if (s.length <= limit) s else s.take(limit) + "…[${s.length - limit} chars cut]"
        }

        fun decode(payload: ByteArray): LogRecord {
            val r = PayloadReader(payload, "LOG")
            val time = r.i64(); val level = r.u8(); val logger = r.str(); val thread = r.str()
            val message = r.blob().decodeToString()
            val throwable = if (r.bool()) r.blob().decodeToString() else null
            val mdc = LinkedHashMap<String, String>()
            repeat(r.u16()) { mdc[r.str()] = r.str() }
            return LogRecord(time, level, logger, thread, message, throwable, mdc)
        }
    }
}
