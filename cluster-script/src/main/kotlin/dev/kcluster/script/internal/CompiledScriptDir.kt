package dev.kcluster.script.internal

import dev.kcluster.dsl.ClusterSpec
import java.io.File
import java.lang.reflect.InvocationTargetException
import java.net.URLClassLoader
import java.nio.file.Files
import java.nio.file.Path
import java.util.Properties

/**
 * One compiled script in the cache: `classes/` (the compiler's output), and `script.properties` naming the script class and the jars its
 * `@file:DependsOn` resolved to. The watcher and every worker load it the same way, with no compiler: [evaluate] runs the script body
 * against a `cluster { }` receiver.
 */
internal class CompiledScriptDir(val dir: Path) {
    private val properties = Properties().apply { Files.newBufferedReader(dir.resolve(PROPERTIES)).use { load(it) } }

    /** The compiled script's class name. */
    val className: String = properties.getProperty(CLASS) ?: throw IllegalStateException("$dir/$PROPERTIES names no script class")

    /** The jars `@file:DependsOn` resolved to. */
    val dependencies: List<Path> =
        properties.getProperty(DEPENDENCIES).orEmpty().split(File.pathSeparator).filter { it.isNotEmpty() }.map { Path.of(it) }

    /** True when every dependency jar is still there (a cache entry whose jars were deleted is compiled again). */
    fun isUsable(): Boolean = Files.isDirectory(dir.resolve(CLASSES)) && dependencies.all { Files.exists(it) }

    /** Loads the script class over [parent] and runs the script body with [spec] as its receiver, once. */
    fun evaluate(spec: ClusterSpec, parent: ClassLoader) {
        val urls = (listOf(dir.resolve(CLASSES)) + dependencies).map { it.toUri().toURL() }.toTypedArray()
        val loader = URLClassLoader("kcluster-script", urls, parent)
        val scriptClass = Class.forName(className, true, loader)
        val constructor =
            scriptClass.constructors.singleOrNull { c -> c.parameterTypes.contentEquals(arrayOf(ClusterSpec::class.java)) }
                ?: throw IllegalStateException(
                    "$className has no constructor taking the cluster { } receiver; delete $dir and run the script again"
                )
        val previous = Thread.currentThread().contextClassLoader
        Thread.currentThread().contextClassLoader = loader
        try {
            constructor.newInstance(spec)
        } catch (e: InvocationTargetException) {
            throw e.targetException
        } finally {
            Thread.currentThread().contextClassLoader = previous
        }
    }

    override fun toString(): String = dir.toString()

    companion object {
        const val PROPERTIES = "script.properties"
        const val CLASSES = "classes"
        const val CLASS = "class"
        const val DEPENDENCIES = "dependencies"
    }
}
