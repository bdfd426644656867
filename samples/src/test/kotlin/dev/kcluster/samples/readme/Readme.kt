package dev.kcluster.samples.readme

import dev.kcluster.Cluster
import dev.kcluster.Message
import java.nio.ByteBuffer
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking

// Runs unchanged standalone (`java -cp ... MainKt 8080`) or as a worker of `bin/cluster --workers 4 ...`.
fun main(args: Array<String>) = runBlocking {
    val server = Cluster.serverSocketFactory().listen("127.0.0.1:${args.firstOrNull() ?: 8080}") // shared by all workers
    thread(isDaemon = true) { // or hand `server` to Netty: NioServerSocketChannel(server)
        while (true) server.accept().use { it.write(ByteBuffer.wrap("hello from ${ProcessHandle.current().pid()}\n".toByteArray())) }
    }
    Cluster.ready()
    if (Cluster.isWorker) Cluster.channel.send(Message.ofString("worker ${Cluster.workerId} up"))
    Cluster.awaitTermination() // STOP, watcher gone, or SIGTERM
}
