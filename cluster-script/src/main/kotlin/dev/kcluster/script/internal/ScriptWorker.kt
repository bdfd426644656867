package dev.kcluster.script.internal

import dev.kcluster.dsl.cluster
import java.nio.file.Files
import java.nio.file.Path

/**
 * The main class of a script's workers: loads the compiled script the watcher's pointer file names (no compiler here) and runs it in
 * `cluster(args) { }`, which takes the `worker { }` part in a worker.
 */
internal object ScriptWorker {
    /** The system property naming the pointer file (it holds the cache directory of the current compiled script). */
    const val POINTER = "kcluster.script.pointer"

    @JvmStatic
    fun main(args: Array<String>) {
        val pointer =
            System.getProperty(POINTER) ?: error("-D$POINTER is not set; a script's workers are started by `cluster run FILE.cluster.kts`")
        val script = CompiledScriptDir(Path.of(Files.readString(Path.of(pointer)).trim()))
        cluster(args) { script.evaluate(this, ScriptWorker::class.java.classLoader) }
    }
}
