package dev.kcluster.dsl

import dev.kcluster.Cluster
import dev.kcluster.dsl.internal.Runner
import kotlin.system.exitProcess

/**
 * Runs one program as a whole cluster: call it from `main`, and the same `main` becomes the watcher and, in the processes the watcher
 * launches, each worker.
 *
 * ```kotlin
 * fun main(args: Array<String>) = cluster(args) {
 *     workers(4)
 *     onMessage<String> { msg -> log.info("worker ${msg.worker.id}: ${msg.data}") }
 *     worker {
 *         val server = serverSocket("127.0.0.1:8080")
 *         launch(Dispatchers.IO) { while (true) server.accept().use { /* … */ } }
 *         awaitTermination()
 *     }
 * }
 * ```
 * - **Worker** (`Cluster.isWorker`): runs the `worker { }` block, then returns; the worker has then finished.
 * - **Standalone** (`--standalone` among [args], or `KCLUSTER_STANDALONE=1`): runs the `worker { }` block once, in this process, with local
 *   sockets; `send` reaches the `onMessage` handlers here. Exits when the block returns.
 * - **Watcher** (otherwise): launches the workers with the same [args] and supervises them until SIGTERM or SIGINT (graceful stop; a second
 *   one kills the workers and exits with 128+signal) or a crash loop; SIGHUP restarts the workers one by one, SIGUSR1 reopens the log file
 *   ([dev.kcluster.WatcherSignals] has them all). Exits with 0 after a requested stop, 1 after a failure.
 *
 * Workers run the class that called `cluster(…)` when it has a `main` method, else the main class (or jar) of this JVM's command line
 * (`sun.java.command`); set [ClusterSpec.mainClass] to choose explicitly.
 *
 * @throws IllegalStateException or IllegalArgumentException for a misconfigured block, before anything starts.
 */
public fun cluster(args: Array<String>, block: ClusterSpec.() -> Unit) {
    val caller = runCatching { StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).callerClass }.getOrNull()
    val code = Runner.run(args.toList(), caller, installSignals = true, block = block)
    if (!Cluster.isWorker) exitProcess(code)
}
