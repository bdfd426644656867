package dev.kcluster.internal.log

import java.util.Collections
import java.util.IdentityHashMap
import org.slf4j.helpers.MessageFormatter

/**
 * Strings built from user objects on the logging path. Nothing here throws: every call into user code (`toString`, `getMessage`,
 * `getCause`, `getStackTrace`) is guarded, and a failure becomes a note naming the class (only `getClass()`, which cannot be overridden, is
 * trusted).
 */
internal object SafeText {
    /** Causes/suppressed nested deeper than this are summarised, so a hostile chain stays bounded. */
    const val MAX_DEPTH = 64

    fun format(pattern: String?, args: Array<out Any?>?): String =
        try {
            MessageFormatter.basicArrayFormat(pattern, args?.let { a -> Array<Any?>(a.size) { i -> string(a[i]) } }) ?: "null"
        } catch (e: Throwable) {
            "${pattern ?: "null"} [formatting failed: ${describe(e)}]"
        }

    /** [o]'s `toString()` (arrays deeply, as SLF4J does), or a note when it fails. */
    fun string(o: Any?): String? {
        if (o == null) return null
        return try {
            when (o) {
                is Array<*> -> buildString { deep(this, o, Collections.newSetFromMap(IdentityHashMap())) }
                is IntArray -> o.contentToString()
                is LongArray -> o.contentToString()
                is ByteArray -> o.contentToString()
                is ShortArray -> o.contentToString()
                is CharArray -> o.contentToString()
                is BooleanArray -> o.contentToString()
                is FloatArray -> o.contentToString()
                is DoubleArray -> o.contentToString()
                else -> o.toString() ?: "null"
            }
        } catch (e: Throwable) {
            "[${o.javaClass.name}.toString() failed: ${describe(e)}]"
        }
    }

    /** Like `contentDeepToString`, each element guarded on its own; an array inside itself is `[...]`. */
    private fun deep(out: StringBuilder, a: Array<*>, seen: MutableSet<Any>) {
        if (!seen.add(a)) {
            out.append("[...]")
            return
        }
        out.append('[')
        a.forEachIndexed { i, e ->
            if (i > 0) out.append(", ")
            if (e is Array<*>) deep(out, e, seen) else out.append(string(e))
        }
        out.append(']')
        seen.remove(a)
    }

    /** A throwable's one-line description: `toString()`, else `Class: getMessage()`, else the class name and a note. */
    fun describe(t: Throwable): String {
        try {
            return t.toString() ?: t.javaClass.name
        } catch (_: Throwable) {}
        val message =
            try {
                t.message
            } catch (_: Throwable) {
                return "${t.javaClass.name} [toString() and getMessage() failed]"
            }
        return if (message == null) "${t.javaClass.name} [toString() failed]" else "${t.javaClass.name}: $message [toString() failed]"
    }

    /** `printStackTrace`'s text, including causes, suppressed exceptions and cycles, from guarded calls. */
    fun stackTrace(t: Throwable): String =
        try {
            val out = StringBuilder()
            val seen = Collections.newSetFromMap(IdentityHashMap<Throwable, Boolean>())
            render(out, t, emptyArray(), "", "", seen, 0)
            out.toString()
        } catch (e: Throwable) { // e.g. OutOfMemoryError on a giant trace
            "${describe(t)}\n\t[stack trace unavailable: ${e.javaClass.name}]\n"
        }

    private fun render(
        out: StringBuilder,
        t: Throwable,
        enclosing: Array<StackTraceElement>,
        caption: String,
        prefix: String,
        seen: MutableSet<Throwable>,
        depth: Int,
    ) {
        if (!seen.add(t)) {
            out.append(prefix).append(caption).append("[CIRCULAR REFERENCE: ").append(describe(t)).append("]\n")
            return
        }
        out.append(prefix).append(caption).append(describe(t)).append('\n')
        if (depth >= MAX_DEPTH) {
            out.append(prefix).append("\t... [more causes not shown: nested deeper than ").append(MAX_DEPTH).append("]\n")
            return
        }
        val trace =
            try {
                t.stackTrace ?: emptyArray()
            } catch (_: Throwable) {
                emptyArray()
            }
        var m = trace.size - 1
        var n = enclosing.size - 1
        while (m >= 0 && n >= 0 && trace[m] == enclosing[n]) {
            m--
            n--
        }
        for (i in 0..m) out.append(prefix).append("\tat ").append(trace[i]).append('\n')
        if (trace.size - 1 - m > 0) out.append(prefix).append("\t... ").append(trace.size - 1 - m).append(" more\n")
        val suppressed =
            try {
                t.suppressed
            } catch (_: Throwable) {
                emptyArray()
            }
        for (s in suppressed) render(out, s, trace, "Suppressed: ", prefix + "\t", seen, depth + 1)
        val cause =
            try {
                t.cause
            } catch (_: Throwable) {
                null
            }
        if (cause != null) render(out, cause, trace, "Caused by: ", prefix, seen, depth + 1)
    }
}
