package dev.kcluster.dsl.internal

import java.lang.reflect.Modifier

/** Which main class (or jar) the workers run: explicit, else the caller of `cluster(…)`, else the JVM's command line. */
internal object MainClass {
    fun find(explicit: String?, caller: Class<*>?, command: String? = System.getProperty("sun.java.command")): String {
        if (explicit != null) return explicit
        if (caller != null && hasMain(caller)) return caller.name
        val first = command?.trim()?.split(Regex("\\s+"))?.firstOrNull().orEmpty()
        if (first.endsWith(".jar")) return first
        if (first.isNotEmpty() && runCatching { hasMain(Class.forName(first, false, loader())) }.getOrDefault(false)) return first
        throw IllegalStateException(
            "cannot tell which main class the workers should run (cluster(…) was called from ${caller?.name ?: "an unknown class"}, " +
                "which has no main method); add mainClass(\"com.example.MainKt\") to the cluster { } block"
        )
    }

    private fun loader(): ClassLoader = Thread.currentThread().contextClassLoader ?: MainClass::class.java.classLoader

    private fun hasMain(c: Class<*>): Boolean =
        runCatching { c.getMethod("main", Array<String>::class.java) }.getOrNull()?.let { Modifier.isStatic(it.modifiers) } ?: false
}
