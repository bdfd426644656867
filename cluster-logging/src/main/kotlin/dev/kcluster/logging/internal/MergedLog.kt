package dev.kcluster.logging.internal

import dev.kcluster.internal.log.LogOutput
import dev.kcluster.internal.log.LogRecord
import java.io.FileOutputStream
import java.io.OutputStream
import java.io.PrintStream
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import org.slf4j.event.Level

/**
 * Where this process writes log lines (kcluster's SLF4J backend): one merged stream, text or JSON lines, each line with time, level, source
 * (`watcher`, `worker N` or `main`), logger and message. Configured by system properties / environment (`kcluster.log.level` /
 * `KCLUSTER_LOG_LEVEL`, `kcluster.log.format` / `KCLUSTER_LOG_FORMAT`, `kcluster.log.file` / `KCLUSTER_LOG_FILE`), or by the CLI at start.
 */
internal object MergedLog {
    @Volatile var threshold: Int = parseLevel(setting("kcluster.log.level", "KCLUSTER_LOG_LEVEL") ?: "info")
    @Volatile var json: Boolean = setting("kcluster.log.format", "KCLUSTER_LOG_FORMAT")?.lowercase() == "json"
    /** Set by `ClusterLog.setSource`; else cluster-core's name for this process (`main`, `watcher`, `worker N`). */
    @Volatile var sourceOverride: String? = null
    val source: String
        get() = sourceOverride ?: LogOutput.source

    @Volatile private var file: String? = setting("kcluster.log.file", "KCLUSTER_LOG_FILE")
    @Volatile private var out: PrintStream = open()
    @Volatile var colour: Boolean = file == null && System.console() != null && System.getenv("NO_COLOR") == null
    private val timeFormat = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault())

    private fun setting(prop: String, env: String): String? = System.getProperty(prop) ?: System.getenv(env)

    fun parseLevel(name: String): Int =
        when (name.trim().lowercase()) {
            "trace" -> Level.TRACE.toInt()
            "debug" -> Level.DEBUG.toInt()
            "info" -> Level.INFO.toInt()
            "warn",
            "warning" -> Level.WARN.toInt()
            "error" -> Level.ERROR.toInt()
            "off" -> Int.MAX_VALUE
            else -> throw IllegalArgumentException("unknown log level '$name' (trace, debug, info, warn, error, off)")
        }

    fun levelName(level: Int): String =
        when {
            level >= Level.ERROR.toInt() -> "ERROR"
            level >= Level.WARN.toInt() -> "WARN"
            level >= Level.INFO.toInt() -> "INFO"
            level >= Level.DEBUG.toInt() -> "DEBUG"
            else -> "TRACE"
        }

    private fun open(): PrintStream {
        val f = file ?: return System.err
        return PrintStream(FileOutputStream(f, true) as OutputStream, true, Charsets.UTF_8)
    }

    /** Sends output to [path] (appending), or stderr when null. */
    fun useFile(path: String?) {
        file = path
        colour = path == null && System.console() != null && System.getenv("NO_COLOR") == null
        reopen()
    }

    /** Reopens the log file (after logrotate moved it). */
    @Synchronized
    fun reopen() {
        val old = out
        out = open()
        if (old !== System.err && old !== out) old.close()
    }

    fun isEnabled(level: Int): Boolean = level >= threshold

    @Synchronized
    fun write(record: LogRecord, source: String = this.source) {
        if (!isEnabled(record.level)) return
        out.print(if (json) json(record, source) else text(record, source))
        out.flush()
    }

    private fun text(r: LogRecord, source: String): String = buildString {
        val level = levelName(r.level)
        append(timeFormat.format(Instant.ofEpochMilli(r.timeMillis))).append(' ')
        if (colour) append(colourOf(level)).append(level.padEnd(5)).append("\u001b[0m") else append(level.padEnd(5))
        append(" [").append(source).append("] ").append(r.logger).append(" - ").append(r.message)
        val extra = r.mdc.filterKeys { it != "worker" }
        if (extra.isNotEmpty()) append(' ').append(extra.entries.joinToString(" ", "{", "}") { "${it.key}=${it.value}" })
        append('\n')
        val t = r.throwable
        if (t != null) append(t).append(if (t.endsWith("\n")) "" else "\n")
    }

    private fun colourOf(level: String) =
        when (level) {
            "ERROR" -> "\u001b[31m"
            "WARN" -> "\u001b[33m"
            "INFO" -> "\u001b[32m"
            else -> "\u001b[90m"
        }

    private fun json(r: LogRecord, source: String): String = buildString {
        append("{\"time\":\"").append(Instant.ofEpochMilli(r.timeMillis)).append('"')
        append(",\"level\":\"").append(levelName(r.level)).append('"')
        append(",\"source\":").append(quote(source))
        append(",\"logger\":").append(quote(r.logger))
        append(",\"thread\":").append(quote(r.thread))
        append(",\"message\":").append(quote(r.message))
        val t = r.throwable
        if (t != null) append(",\"throwable\":").append(quote(t))
        if (r.mdc.isNotEmpty())
            append(",\"mdc\":{").append(r.mdc.entries.joinToString(",") { quote(it.key) + ":" + quote(it.value) }).append('}')
        append("}\n")
    }

    private fun quote(s: String): String =
        buildString(s.length + 2) {
            append('"')
            for (c in s) when {
                c == '"' -> append("\\\"")
                c == '\\' -> append("\\\\")
                c == '\n' -> append("\\n")
                c == '\r' -> append("\\r")
                c == '\t' -> append("\\t")
                c < ' ' -> append("\\u%04x".format(c.code))
                else -> append(c)
            }
            append('"')
        }
}
