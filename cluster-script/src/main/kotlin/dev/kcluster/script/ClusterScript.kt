package dev.kcluster.script

import dev.kcluster.script.internal.ClusterScriptCompilation
import kotlin.script.experimental.annotations.KotlinScript

/**
 * The definition of `*.cluster.kts` scripts, which `cluster run app.cluster.kts` runs as a whole cluster. The script body is the body of a
 * `cluster { }` block: its implicit receiver is [dev.kcluster.dsl.ClusterSpec], and `dev.kcluster.*`, `dev.kcluster.dsl.*`,
 * `dev.kcluster.netty.*`, `kotlinx.coroutines.*` and `kotlin.time.Duration.Companion.*` are imported.
 *
 * ```kotlin
 * // hello.cluster.kts
 * workers(2)
 * onMessage<String> { msg -> log.info("worker ${msg.worker.id}: ${msg.data}") }
 * worker {
 *     send("up")
 *     serverSocket("127.0.0.1:8080")
 *     awaitTermination()
 * }
 * ```
 *
 * `@file:DependsOn("group:artifact:version")` adds a library from Maven Central (or from the repositories named by
 * `@file:Repository("https://…")`), resolved through the local repository `~/.m2/repository`. The watcher compiles the script once and
 * caches the classes; every worker runs the compiled `worker { }`.
 */
@KotlinScript(displayName = "kcluster script", fileExtension = "cluster.kts", compilationConfiguration = ClusterScriptCompilation::class)
public abstract class ClusterScript
