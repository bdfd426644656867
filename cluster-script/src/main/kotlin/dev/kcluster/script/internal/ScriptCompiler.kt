package dev.kcluster.script.internal

import dev.kcluster.script.ClusterScript
import java.nio.file.Files
import java.nio.file.Path
import kotlin.script.experimental.api.ResultWithDiagnostics
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.ScriptDiagnostic
import kotlin.script.experimental.api.dependencies
import kotlin.script.experimental.host.FileScriptSource
import kotlin.script.experimental.jvm.JvmDependency
import kotlin.script.experimental.jvm.impl.KJvmCompiledModuleInMemory
import kotlin.script.experimental.jvm.impl.KJvmCompiledScript
import kotlin.script.experimental.jvm.jvm
import kotlin.script.experimental.jvm.updateClasspath
import kotlin.script.experimental.jvmhost.JvmScriptCompiler
import kotlin.script.experimental.jvmhost.createJvmCompilationConfigurationFromTemplate
import kotlinx.coroutines.runBlocking
import org.jetbrains.kotlin.config.KotlinCompilerVersion

/**
 * Compiles `*.cluster.kts` files against [classpath], through [cache]. Watcher only. Jars under [home] (the compiler adds kotlin-reflect
 * from there) are not the script's own dependencies: workers do not get them.
 */
internal class ScriptCompiler(private val classpath: List<Path>, private val cache: ScriptCache, private val home: Path) {
    sealed interface Result {
        /** [warnings] are the compiler's, formatted like errors; empty when [cached]. */
        class Compiled(val script: CompiledScriptDir, val cached: Boolean, val millis: Long, val warnings: List<String>) : Result

        /** The compiler's messages, each `file:line:column: error: message`. */
        class Failed(val messages: List<String>) : Result
    }

    private val configuration by lazy {
        createJvmCompilationConfigurationFromTemplate<ClusterScript> { jvm { updateClasspath(classpath.map { it.toFile() }) } }
    }

    /** Compiles [file], or takes it from the cache; [shownAs] is how messages name it (the path the user gave). */
    fun compile(file: Path, shownAs: String = file.toString()): Result {
        val started = System.nanoTime()
        val text =
            try {
                Files.readString(file)
            } catch (e: Exception) {
                return Result.Failed(listOf("$shownAs: error: cannot read the script: ${e.message ?: e}"))
            }
        val key = cache.key(file.fileName.toString(), text, KotlinCompilerVersion.VERSION, classpath)
        cache.lookup(key)?.let {
            return Result.Compiled(it, cached = true, millis = millisSince(started), warnings = emptyList())
        }

        val result = runBlocking { JvmScriptCompiler()(FileScriptSource(file.toFile(), text), configuration) }
        val messages = result.reports.filter { it.severity >= ScriptDiagnostic.Severity.WARNING }.map { format(it, shownAs) }
        val compiled =
            when (result) {
                is ResultWithDiagnostics.Success -> result.value as KJvmCompiledScript
                is ResultWithDiagnostics.Failure -> {
                    // The dependency resolver reports its failures as warnings: say that they stopped the compile.
                    val error = result.reports.any { it.severity >= ScriptDiagnostic.Severity.ERROR }
                    return Result.Failed(
                        if (error) messages else messages + "$shownAs: error: the script does not compile (see the warnings above)"
                    )
                }
            }
        val module =
            compiled.getCompiledModule() as? KJvmCompiledModuleInMemory
                ?: return Result.Failed(listOf("$shownAs: error: the compiler returned no classes"))
        val base = classpath.map { it.toAbsolutePath().normalize() }.toSet()
        val ours = home.toAbsolutePath().normalize()
        val resolved =
            compiled.compilationConfiguration[ScriptCompilationConfiguration.dependencies]
                .orEmpty()
                .filterIsInstance<JvmDependency>()
                .flatMap { it.classpath }
                .map { it.toPath().toAbsolutePath().normalize() }
                .filter { it !in base && !it.startsWith(ours) }
                .distinct()
        val stored = cache.store(key, compiled.scriptClassFQName, module.compilerOutputFiles, resolved)
        return Result.Compiled(stored, cached = false, millis = millisSince(started), warnings = messages)
    }

    private fun millisSince(started: Long) = (System.nanoTime() - started) / 1_000_000

    companion object {
        /** `file:line:column: severity: message`, as compilers print them. */
        fun format(d: ScriptDiagnostic, shownAs: String): String {
            val where = d.location?.start?.let { "$shownAs:${it.line}:${it.col}" } ?: shownAs
            val cause = d.exception?.takeIf { d.message.isBlank() }?.let { it.toString() }.orEmpty()
            return "$where: ${d.severity.name.lowercase()}: ${d.message.ifBlank { cause }}"
        }
    }
}
