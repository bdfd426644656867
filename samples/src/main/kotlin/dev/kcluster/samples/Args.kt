package dev.kcluster.samples

import kotlin.system.exitProcess

/** Tiny `--name value` parsing shared by the samples; bad input exits 2 with a message naming the fix. */
internal object Args {
    fun int(args: Array<String>, name: String, default: Int): Int {
        val raw = string(args, name) ?: return default
        val n = raw.toIntOrNull()
        if (n == null || n < 0 || n > 65535) usage("$name expects a number 0-65535, got '$raw' (e.g. $name 8080)")
        return n
    }

    fun string(args: Array<String>, name: String): String? {
        for ((i, a) in args.withIndex()) {
            if (a == name) return args.getOrNull(i + 1) ?: usage("$name needs a value (e.g. $name 8080)")
            if (a.startsWith("$name=")) return a.substringAfter('=')
        }
        return null
    }

    fun usage(message: String): Nothing {
        System.err.println(message)
        exitProcess(2)
    }
}
