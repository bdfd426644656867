package dev.kcluster.zookeeper.testing

import dev.kcluster.Cluster
import java.io.File
import java.nio.ByteBuffer
import java.time.Instant
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * Test worker: args `PORT LOGFILE`. Serves HTTP on the shared 127.0.0.1:PORT (`worker <id> leader <bool> epoch <n>`), and appends every
 * change of Cluster.leadership to LOGFILE: `<micros since epoch> GRANT|REVOKE <epoch> <worker pid> <watcher pid>`.
 */
object LeaderWorker {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val port = args[0].toInt()
        val logFile = File(args[1])
        val me = ProcessHandle.current()
        val watcherPid = me.parent().map { it.pid() }.orElse(-1)
        val server = Cluster.serverSocketFactory().listen("127.0.0.1:$port")
        Thread(
                {
                    while (true) {
                        val c = runCatching { server.accept() }.getOrNull() ?: break
                        runCatching {
                            c.use {
                                val buf = ByteBuffer.allocate(4096)
                                while (c.read(buf) > 0 && !String(buf.array(), 0, buf.position()).contains("\r\n\r\n")) Unit
                                val l = Cluster.leadership.value
                                val body = "worker ${Cluster.workerId} leader ${l.isLeader} epoch ${l.epoch}\n"
                                c.write(
                                    ByteBuffer.wrap(
                                        "HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n$body".toByteArray()
                                    )
                                )
                            }
                        }
                    }
                },
                "http",
            )
            .apply {
                isDaemon = true
                start()
            }
        launch(Dispatchers.IO) {
            var was = false
            Cluster.leadership.collect { l ->
                if (l.isLeader != was) {
                    val now = Instant.now()
                    val micros = now.epochSecond * 1_000_000 + now.nano / 1_000
                    synchronized(LeaderWorker) {
                        logFile.appendText("$micros ${if (l.isLeader) "GRANT" else "REVOKE"} ${l.epoch} ${me.pid()} $watcherPid\n")
                    }
                    was = l.isLeader
                }
            }
        }
        Cluster.awaitTermination()
        server.close()
        System.exit(0)
    }
}
