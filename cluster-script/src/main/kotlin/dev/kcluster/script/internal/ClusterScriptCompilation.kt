package dev.kcluster.script.internal

import dev.kcluster.dsl.ClusterSpec
import kotlin.script.experimental.api.ResultWithDiagnostics
import kotlin.script.experimental.api.ScriptCollectedData
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.ScriptConfigurationRefinementContext
import kotlin.script.experimental.api.asSuccess
import kotlin.script.experimental.api.collectedAnnotations
import kotlin.script.experimental.api.defaultImports
import kotlin.script.experimental.api.dependencies
import kotlin.script.experimental.api.implicitReceivers
import kotlin.script.experimental.api.onSuccess
import kotlin.script.experimental.api.refineConfiguration
import kotlin.script.experimental.api.with
import kotlin.script.experimental.dependencies.CompoundDependenciesResolver
import kotlin.script.experimental.dependencies.DependsOn
import kotlin.script.experimental.dependencies.FileSystemDependenciesResolver
import kotlin.script.experimental.dependencies.Repository
import kotlin.script.experimental.dependencies.maven.MavenDependenciesResolver
import kotlin.script.experimental.dependencies.resolveFromScriptSourceAnnotations
import kotlin.script.experimental.jvm.JvmDependency
import kotlin.script.experimental.jvm.jvm
import kotlin.script.experimental.jvm.jvmTarget
import kotlinx.coroutines.runBlocking

/**
 * How `*.cluster.kts` scripts compile (watcher only: it needs the compiler and the Maven resolver). The compile classpath is added by
 * [ScriptCompiler]; `@file:DependsOn` / `@file:Repository` add to it.
 */
internal object ClusterScriptCompilation :
    ScriptCompilationConfiguration({
        implicitReceivers(ClusterSpec::class)
        defaultImports(
            "dev.kcluster.*",
            "dev.kcluster.dsl.*",
            "dev.kcluster.netty.*",
            "kotlinx.coroutines.*",
            "kotlin.time.Duration.Companion.milliseconds",
            "kotlin.time.Duration.Companion.seconds",
            "kotlin.time.Duration.Companion.minutes",
            "kotlin.script.experimental.dependencies.DependsOn",
            "kotlin.script.experimental.dependencies.Repository",
        )
        jvm { jvmTarget("17") }
        refineConfiguration { onAnnotations(DependsOn::class, Repository::class, handler = { resolveDependencies(it) }) }
    }) {
    @Suppress("unused") // a ScriptCompilationConfiguration is Serializable
    private fun readResolve(): Any = ClusterScriptCompilation
}

/** Adds the jars of `@file:DependsOn` (from the `@file:Repository` repositories, else Maven Central) to the classpath. */
private val resolver by lazy { CompoundDependenciesResolver(FileSystemDependenciesResolver(), MavenDependenciesResolver()) }

private fun resolveDependencies(context: ScriptConfigurationRefinementContext): ResultWithDiagnostics<ScriptCompilationConfiguration> {
    val annotations =
        context.collectedData?.get(ScriptCollectedData.collectedAnnotations)?.takeIf { it.isNotEmpty() }
            ?: return context.compilationConfiguration.asSuccess()
    return runBlocking { resolver.resolveFromScriptSourceAnnotations(annotations) }
        .onSuccess { files -> context.compilationConfiguration.with { dependencies.append(JvmDependency(files)) }.asSuccess() }
}
