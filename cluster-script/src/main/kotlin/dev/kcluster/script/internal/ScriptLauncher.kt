package dev.kcluster.script.internal

import dev.kcluster.dsl.WatcherScope
import dev.kcluster.dsl.cluster
import dev.kcluster.logging.ClusterLog
import java.io.PrintStream
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermissions
import kotlin.io.path.listDirectoryEntries
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runInterruptible
import org.slf4j.LoggerFactory

/**
 * `cluster run FILE.cluster.kts [ARGS]` in the watcher: compiles the script (or takes it from the cache), then runs it as the body of
 * `cluster(args) { }`, whose workers run [ScriptWorker] on the compiled classes. With watched paths, a change recompiles the script and
 * rolls the workers onto it; a script that no longer compiles leaves the workers as they are. The cluster-cli calls [run] reflectively, in
 * a class loader of this module's jars, so the compiler is loaded only for scripts.
 */
internal object ScriptLauncher {
    private val log = LoggerFactory.getLogger("dev.kcluster.script")

    /**
     * Runs [script] with [args]; [home] holds `kcluster-script.jar`, `lib/` and `compiler/`; [log] is the level, `text` or `json`, and the
     * log file ("" for stderr). Returns the exit code when the script cannot start (1), else does not return: the DSL exits the JVM when
     * the cluster stops.
     */
    @JvmStatic
    fun run(home: String, script: String, args: List<String>, watch: List<String>, jvmOptions: List<String>, log: List<String>): Int {
        try {
            ClusterLog.setLevel(log[0])
            ClusterLog.setJson(log[1] == "json")
            log[2].takeIf { it.isNotEmpty() }?.let { ClusterLog.setFile(it) }
        } catch (e: Exception) {
            System.err.println("cluster: cannot open log file ${log[2]}: ${e.message ?: e}")
            return 1
        }
        return run(Path.of(home), script, args, watch.map { Path.of(it) }, jvmOptions, System.err)
    }

    fun run(home: Path, script: String, args: List<String>, watch: List<Path>, jvmOptions: List<String>, err: PrintStream): Int {
        val file = Path.of(script)
        if (!Files.isRegularFile(file)) {
            err.println("cluster: script $script does not exist")
            return 1
        }
        val runtime = runtimeClasspath(home)
        val compiler = ScriptCompiler(runtime, ScriptCache(ScriptCache.defaultRoot()), home)
        val first =
            when (val r = compiler.compile(file, script)) {
                is ScriptCompiler.Result.Failed -> {
                    r.messages.forEach(err::println)
                    return 1
                }
                is ScriptCompiler.Result.Compiled -> r.also { logCompiled(script, it) }
            }
        val pointer = Pointer.create()
        pointer.set(first.script)
        return try {
            cluster(args.toTypedArray()) {
                first.script.evaluate(this, ScriptLauncher::class.java.classLoader)
                mainClass(ScriptWorker::class.java.name)
                jvmOptions("-D${ScriptWorker.POINTER}=${pointer.file}", *jvmOptions.toTypedArray())
                watcherConfig { classpath(*runtime.map { it.toString() }.toTypedArray()) }
                if (watch.isNotEmpty()) {
                    val paths = (watch + file).map { it.toAbsolutePath().normalize() }.distinct()
                    onStarted { reloadOnChange(paths, file, script, compiler, pointer, first.script) }
                }
            }
            0
        } catch (e: IllegalStateException) {
            err.println("cluster: $script: ${e.message}")
            1
        } catch (e: IllegalArgumentException) {
            err.println("cluster: $script: ${e.message}")
            1
        } catch (e: Exception) {
            val at =
                e.stackTrace.firstOrNull { it.fileName == file.fileName.toString() }?.let { " (at $script:${it.lineNumber})" }.orEmpty()
            err.println("cluster: $script failed: $e$at")
            1
        } finally {
            pointer.close()
        }
    }

    private suspend fun WatcherScope.reloadOnChange(
        paths: List<Path>,
        file: Path,
        script: String,
        compiler: ScriptCompiler,
        pointer: Pointer,
        initial: CompiledScriptDir,
    ) {
        val files = ScriptFiles(paths)
        var current = initial
        log.info("watching {} for changes", paths.joinToString(", "))
        while (true) {
            val changed = files.awaitChange()
            log.info("{} changed; compiling {}", changed.joinToString(", ") { it.fileName.toString() }, script)
            when (val r = runInterruptible(Dispatchers.IO) { compiler.compile(file, script) }) {
                is ScriptCompiler.Result.Failed -> {
                    log.error("{} does not compile; the workers keep running the previous version:", script)
                    r.messages.forEach { log.error("{}", it) }
                }
                is ScriptCompiler.Result.Compiled -> {
                    logCompiled(script, r)
                    pointer.set(r.script)
                    val result = restart()
                    if (result.rolledBack) {
                        pointer.set(current)
                        log.error(
                            "rolling restart onto the new {} rolled back ({}); the workers run the previous version",
                            script,
                            result.reason,
                        )
                    } else {
                        current = r.script
                        log.info("rolling restart done: {} worker(s) run the new {}", result.replaced, script)
                    }
                }
            }
        }
    }

    private fun logCompiled(script: String, r: ScriptCompiler.Result.Compiled) {
        r.warnings.forEach { log.warn("{}", it) }
        if (r.cached) log.info("{}: compiled classes reused from the cache ({}) in {} ms", script, r.script.dir, r.millis)
        else log.info("{}: compiled in {} ms (cached in {})", script, r.millis, r.script.dir)
    }

    /** `home/kcluster-script.jar` and `home/lib/`: what a script compiles against and its workers run. */
    fun runtimeClasspath(home: Path): List<Path> {
        val jar = home.resolve("kcluster-script.jar")
        check(Files.isRegularFile(jar)) { "$jar is missing; build it with 'mvn -B -q -pl cluster-script -am package -DskipTests'" }
        return listOf(jar) + home.resolve("lib").listDirectoryEntries("*.jar").sorted()
    }

    /** A file in a private directory naming the compiled script that workers starting now run. */
    class Pointer private constructor(private val dir: Path) : AutoCloseable {
        val file: Path = dir.resolve("current")

        fun set(script: CompiledScriptDir) {
            val tmp = dir.resolve("current.tmp")
            Files.writeString(tmp, script.dir.toAbsolutePath().toString())
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        }

        override fun close() = ScriptCache.deleteTree(dir)

        companion object {
            fun create(): Pointer {
                val dir =
                    Files.createTempDirectory(
                        "kcluster-script-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")),
                    )
                return Pointer(dir).also { p -> Runtime.getRuntime().addShutdownHook(Thread({ p.close() }, "kcluster-script-cleanup")) }
            }
        }
    }
}
