package dev.kcluster.zookeeper.testing

import dev.kcluster.Cluster
import dev.kcluster.Message
import java.io.File
import kotlinx.coroutines.runBlocking

/**
 * Test worker: args `PORT MSGLOG`. Takes the shared listener 127.0.0.1:PORT (READY), and appends `<worker pid> <text>` to MSGLOG for every
 * message it receives (`kotlin.String` messages by their text, raw ones as `bytes:<size>`).
 */
object BroadcastWorker {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val server = Cluster.serverSocketFactory().listen("127.0.0.1:${args[0]}")
        val log = File(args[1])
        val pid = ProcessHandle.current().pid()
        while (true) {
            val m = Cluster.channel.receive() ?: break
            val text = if (m.type == Message.ofString("").type) m.asString() else "bytes:${m.size}"
            synchronized(BroadcastWorker) { log.appendText("$pid $text\n") }
        }
        server.close()
    }
}
