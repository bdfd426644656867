package dev.kcluster.testing

import dev.kcluster.Cluster
import java.nio.file.FileAlreadyExistsException
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.runBlocking

/**
 * The first standby of a cluster misbehaves: it asks for 80 listeners at once (80 threads in `listen()`), more LISTEN requests than the
 * watcher holds for a standby. Every other worker, and later standbys (the marker `DIR/flooded` exists), just become READY. Args: `DIR`.
 */
object FloodingStandby {
    @JvmStatic
    fun main(args: Array<String>): Unit =
        runBlocking<Unit> {
            val marker = Path.of(args[0], "flooded")
            val flood =
                System.getenv("KCLUSTER_STANDBY") == "1" &&
                    try {
                        Files.createFile(marker)
                        true
                    } catch (e: FileAlreadyExistsException) {
                        false
                    }
            if (flood) {
                val threads =
                    (1..80).map { n ->
                        Thread({ runCatching { Cluster.serverSocketFactory().listen("127.0.0.1:0").close() } }, "flood-$n").apply {
                            start()
                        }
                    }
                threads.forEach(Thread::join)
            }
            Cluster.ready()
            Cluster.awaitTermination()
        }
}
