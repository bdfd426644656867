package dev.kcluster.bench

import dev.kcluster.Cluster
import dev.kcluster.Message
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * Worker main of the message benches, driven by the watcher:
 * - a `kotlin.ByteArray` message is echoed back unchanged (ping-pong);
 * - `flood <count> <size>` sends `count` byte messages of `size` bytes, then the string `done`.
 */
public object BenchWorker {
    internal val BYTES_TYPE: String = Message.ofBytes(ByteArray(0)).type

    /** Entry point, launched by the bench's ClusterWatcher. */
    @JvmStatic
    public fun main(args: Array<String>): Unit = runBlocking {
        val channel = Cluster.channel
        val loop = launch {
            while (true) {
                val m = channel.receive() ?: break
                if (m.type == BYTES_TYPE) {
                    channel.send(m)
                    continue
                }
                val cmd = m.asString().split(' ')
                when (cmd[0]) {
                    "flood" -> {
                        val count = cmd[1].toInt()
                        val msg = Message.ofBytes(ByteArray(cmd[2].toInt()) { it.toByte() })
                        repeat(count) { channel.send(msg) }
                        channel.send(Message.ofString("done"))
                    }
                    else -> error("unknown bench command: ${m.asString()}")
                }
            }
        }
        Cluster.ready()
        Cluster.awaitTermination()
        loop.cancel()
    }
}
