package dev.kcluster.testing

import dev.kcluster.Cluster
import java.net.InetSocketAddress
import java.nio.ByteBuffer

/** A cluster program run directly (no watcher): prints what the facade does, serves one port, waits for a signal. */
object StandaloneProgram {
    @JvmStatic
    fun main(args: Array<String>) {
        println("isWorker=${Cluster.isWorker} workerId=${Cluster.workerId}")
        println("channel: " + runCatching { Cluster.channel }.exceptionOrNull()?.message)
        val server = Cluster.serverSocketFactory().listen("127.0.0.1:0")
        Thread(
                {
                    while (true) {
                        val c = runCatching { server.accept() }.getOrNull() ?: break
                        c.use { it.write(ByteBuffer.wrap("standalone\n".toByteArray())) }
                    }
                },
                "accept",
            )
            .apply {
                isDaemon = true
                start()
            }
        Cluster.ready()
        println("port ${(server.localAddress as InetSocketAddress).port}")
        System.out.flush()
        Cluster.awaitTerminationBlocking()
        println("terminated")
    }
}
