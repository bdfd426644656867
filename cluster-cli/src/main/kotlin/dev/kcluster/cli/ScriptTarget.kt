package dev.kcluster.cli

import java.io.PrintStream
import java.lang.reflect.InvocationTargetException
import java.net.URLClassLoader
import java.nio.file.Files
import java.nio.file.Path

/**
 * A TARGET ending in `.cluster.kts` is a Kotlin DSL script, run by cluster-script. Its jars (and the Kotlin compiler among them) are not on
 * the CLI's classpath: they are loaded here, in a class loader of their own that shares nothing with the CLI's (kcluster, its logging and
 * Kotlin come from those jars), only when a script is run, so `cluster app.jar` starts as fast as before. They are found in the directory
 * named by the system property `kcluster.script.home` or the variable `KCLUSTER_SCRIPT_HOME`, else in `cluster-script/target` beside this
 * jar's `cluster-cli/target` (where `bin/cluster` builds them).
 */
internal object ScriptTarget {
    const val SUFFIX = ".cluster.kts"
    private const val LAUNCHER = "dev.kcluster.script.internal.ScriptLauncher"

    fun matches(target: String): Boolean = target.endsWith(SUFFIX)

    /** Runs the script [options] names; returns the exit code (or does not return: the script's cluster exits the JVM). */
    fun run(options: RunOptions, err: PrintStream = System.err): Int {
        unsupported(options)
            .takeIf { it.isNotEmpty() }
            ?.let {
                err.println("cluster: not for a $SUFFIX script (it configures its own cluster): ${it.joinToString()}")
                return EXIT_USAGE
            }
        val home = home()
        val jars = listOf(home.resolve("kcluster-script.jar")) + listOf("lib", "compiler").flatMap { jarsIn(home.resolve(it)) }
        if (!Files.isRegularFile(jars.first())) {
            err.println("cluster: ${jars.first()} is missing; build it with 'mvn -B -q -pl cluster-script -am package -DskipTests'")
            return 1
        }
        val loader = URLClassLoader("kcluster-script", jars.map { it.toUri().toURL() }.toTypedArray(), ClassLoader.getPlatformClassLoader())
        Thread.currentThread().contextClassLoader = loader
        val run =
            try {
                loader
                    .loadClass(LAUNCHER)
                    .getMethod(
                        "run",
                        String::class.java,
                        String::class.java,
                        List::class.java,
                        List::class.java,
                        List::class.java,
                        List::class.java,
                    )
            } catch (e: ReflectiveOperationException) {
                err.println(
                    "cluster: $home does not match this cluster command ($e); rebuild both with 'mvn -B -q -pl cluster-script -am package -DskipTests'"
                )
                return 1
            }
        return try {
            run.invoke(
                null,
                home.toString(),
                options.target,
                options.config.args,
                options.watch.map { it.toString() },
                options.config.jvmOptions,
                logSettings(options),
            ) as Int
        } catch (e: InvocationTargetException) {
            throw e.targetException
        }
    }

    /** `level`, `text`/`json`, and the log file or "": the launcher applies them to its own kcluster logging. */
    private fun logSettings(o: RunOptions): List<String> =
        listOf(o.logLevel, if (o.logJson) "json" else "text", o.logFile?.toString().orEmpty())

    private fun home(): Path {
        (System.getProperty("kcluster.script.home") ?: System.getenv("KCLUSTER_SCRIPT_HOME"))
            ?.takeIf { it.isNotBlank() }
            ?.let {
                return Path.of(it)
            }
        val self = runCatching { Path.of(ScriptTarget::class.java.protectionDomain.codeSource.location.toURI()) }.getOrNull()
        val root = self?.parent?.parent?.parent ?: Path.of(".")
        return root.resolve("cluster-script").resolve("target")
    }

    private fun jarsIn(dir: Path): List<Path> =
        if (!Files.isDirectory(dir)) emptyList()
        else Files.list(dir).use { s -> s.filter { it.toString().endsWith(".jar") }.sorted().toList() }

    /** The options a script run does not take (yet); each is a usage error. */
    private fun unsupported(options: RunOptions): List<String> =
        listOfNotNull(
            "-p/--pid-file".takeIf { options.pidFile != null },
            "-cp/--classpath (use @file:DependsOn)".takeIf { options.config.classpath.isNotEmpty() },
        )
}
