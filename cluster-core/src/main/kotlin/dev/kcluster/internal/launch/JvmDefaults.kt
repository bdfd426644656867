package dev.kcluster.internal.launch

import kotlin.math.max

/**
 * kcluster's lean JVM defaults for workers, for N worker JVMs sharing one host. Each default covers a setting; it is left out when the
 * user's options already set that setting (a user option wins). See bench/README.md for the measurements behind each one.
 */
internal object JvmDefaults {
    /** A default option and the settings it covers (a user option naming any of them replaces it). */
    private class Default(val option: String, val settings: Set<String>)

    private val gc = setOf("UseSerialGC", "UseParallelGC", "UseG1GC", "UseZGC", "UseShenandoahGC", "UseEpsilonGC", "UseConcMarkSweepGC")
    private val heap = setOf("Xmx", "MaxHeapSize", "MaxRAM", "MaxRAMPercentage", "MaxRAMFraction")

    private val stack = setOf("Xss", "ThreadStackSize")

    /** The defaults for a cluster of [workers], minus those that [userOptions] override. */
    fun forWorkers(workers: Int, userOptions: List<String>): List<String> {
        val n = max(1, workers)
        val defaults =
            listOf(
                Default("-XX:+UseSerialGC", gc),
                // Half of RAM shared among the workers (the JVM's own default is a quarter of RAM for each).
                Default("-XX:MaxRAMPercentage=%.2f".format(java.util.Locale.ROOT, max(1.0, 50.0 / n)), heap),
                Default("-Xss512k", stack),
            )
        val taken = userOptions.mapNotNull(::settingOf).toSet()
        return defaults.filter { d -> d.settings.none { it in taken } }.map { it.option }
    }

    /**
     * Options for the worker's JDK release, before the user's: JDK 22+ warns about junixsocket's native library and JDK 23+ about Netty's
     * `sun.misc.Unsafe` use on every worker's stderr otherwise.
     */
    fun forRuntime(java: JavaRuntime?, userOptions: List<String>): List<String> {
        val feature = java?.feature ?: return emptyList()
        val out = mutableListOf<String>()
        if (feature >= 22 && userOptions.none { it.startsWith("--enable-native-access") }) out += "--enable-native-access=ALL-UNNAMED"
        if (feature >= 23 && userOptions.none { it.startsWith("--sun-misc-unsafe-memory-access") })
            out += "--sun-misc-unsafe-memory-access=allow"
        return out
    }

    /** The setting an option sets: `Xmx` for `-Xmx1g`, `UseSerialGC` for `-XX:+UseSerialGC`, `MaxRAM` for `-XX:MaxRAM=1g`. */
    fun settingOf(option: String): String? =
        when {
            option.startsWith("-XX:") -> option.removePrefix("-XX:").trimStart('+', '-').substringBefore('=')
            option.startsWith("-Xmx") -> "Xmx"
            option.startsWith("-Xms") -> "Xms"
            option.startsWith("-Xss") -> "Xss"
            else -> null
        }

    /** Options the user gives through the environment: `JAVA_TOOL_OPTIONS` and `JDK_JAVA_OPTIONS`. */
    fun environmentOptions(env: Map<String, String>): List<String> =
        listOf("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS").flatMap { env[it].orEmpty().split(Regex("\\s+")) }.filter { it.isNotEmpty() }
}
