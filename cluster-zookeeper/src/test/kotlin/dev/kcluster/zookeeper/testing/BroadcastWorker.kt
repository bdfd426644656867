package dev.kcluster.zookeeper.testing

import dev.kcluster.Cluster
import dev.kcluster.Message
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * Test worker: args `PORT MSGLOG`. Takes the shared listener 127.0.0.1:PORT (READY), appends `<worker pid> <text>` to MSGLOG for every
 * message it receives (`kotlin.String` messages by their text, raw ones as `bytes:<size>`), and stops when the watcher says so.
 */
object BroadcastWorker {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val server = Cluster.serverSocketFactory().listen("127.0.0.1:${args[0]}")
        val log = File(args[1])
        val pid = ProcessHandle.current().pid()
        val receiving =
            launch(Dispatchers.IO) {
                while (true) {
                    val m = Cluster.channel.receive() ?: break
                    val text = if (m.type == Message.ofString("").type) m.asString() else "bytes:${m.size}"
                    synchronized(BroadcastWorker) { log.appendText("$pid $text\n") }
                }
            }
        Cluster.awaitTermination()
        receiving.cancel()
        server.close()
    }
}
