package dev.kcluster.samples

import dev.kcluster.ClusterWatcher
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory
import sun.misc.Signal
import java.io.File
import kotlin.system.exitProcess

/**
 * A minimal watcher command, the fallback `bench/http.sh` uses when `bin/cluster` is not built:
 * `MiniCluster [--workers N] [--socket-mode shared|reuseport] [--pid-file F] <main class> [args…]`.
 * SIGHUP: rolling restart; SIGTERM/SIGINT: stop. Workers get this JVM's classpath.
 */
public object MiniCluster {
    /** Entry point. */
    @JvmStatic
    public fun main(args: Array<String>) {
        var workers = 2
        var mode = SocketMode.SHARED
        var pidFile: String? = null
        var i = 0
        while (i < args.size && args[i].startsWith("--")) {
            when (args[i]) {
                "--workers" -> workers = args.getOrNull(++i)?.toIntOrNull() ?: Args.usage("--workers needs a number, e.g. --workers 2")
                "--socket-mode" -> mode = when (args.getOrNull(++i)) {
                    "shared" -> SocketMode.SHARED
                    "reuseport" -> SocketMode.REUSE_PORT
                    else -> Args.usage("--socket-mode is shared or reuseport")
                }
                "--pid-file" -> pidFile = args.getOrNull(++i) ?: Args.usage("--pid-file needs a path")
                else -> Args.usage("unknown option ${args[i]}; usage: MiniCluster [--workers N] [--socket-mode shared|reuseport] [--pid-file F] <main class> [args...]")
            }
            i++
        }
        val main = args.getOrNull(i) ?: Args.usage("name the worker's main class, e.g. MiniCluster dev.kcluster.samples.HelloHttp --port 8080")
        val log = LoggerFactory.getLogger(MiniCluster::class.java)
        runBlocking {
            val watcher = ClusterWatcher(WatcherConfig(main) { args(args.drop(i + 1)); socketMode(mode) })
            val scope = CoroutineScope(Dispatchers.Default)
            Signal.handle(Signal("HUP")) { scope.launch { log.info("SIGHUP: rolling restart"); log.info("restart: {}", watcher.restart()) } }
            for (sig in listOf("TERM", "INT")) Signal.handle(Signal(sig)) { scope.launch { watcher.stop() } }
            watcher.start(workers)
            pidFile?.let { File(it).writeText("${ProcessHandle.current().pid()}\n") }
            val failure = watcher.awaitTermination()
            pidFile?.let { File(it).delete() }
            if (failure != null) exitProcess(1)
        }
        exitProcess(0)
    }
}
