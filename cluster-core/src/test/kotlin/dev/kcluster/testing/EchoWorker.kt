package dev.kcluster.testing

import dev.kcluster.Cluster
import dev.kcluster.Message
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.slf4j.LoggerFactory

/**
 * Test worker. Behaviour by args:
 * - `listen ADDR`: takes a shared listener, answers each connection with "worker <id>\n" and closes it.
 * - always: replies to every message with "echo:<text>" and logs "hello from worker <id>".
 * - on termination: sends "bye <id>" as a last message.
 */
object EchoWorker {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val log = LoggerFactory.getLogger(EchoWorker::class.java)
        val id = Cluster.workerId
        log.info("hello from worker {}", id)
        val i = args.indexOf("listen")
        if (i >= 0) {
            val server = Cluster.serverSocketFactory().listen(args[i + 1])
            Cluster.channel.send(Message.ofString("port ${(server.localAddress as java.net.InetSocketAddress).port}"))
            Thread({
                while (true) {
                    val c = runCatching { server.accept() }.getOrNull() ?: break
                    c.use { it.write(java.nio.ByteBuffer.wrap("worker $id\n".toByteArray())) }
                }
            }, "accept").apply { isDaemon = true; start() }
        }
        Cluster.ready()
        val echo = launch {
            while (true) {
                val m = Cluster.channel.receive() ?: break
                val text = m.asString()
                when (text) {
                    "stop-yourself" -> Cluster.stop()
                    "crash" -> Runtime.getRuntime().halt(42)
                    "throw" -> throw IllegalStateException("boom requested")
                    else -> Cluster.channel.send(Message.ofString("echo:$text from $id"))
                }
            }
        }
        Cluster.awaitTermination()
        echo.cancel()
        Cluster.channel.send(Message.ofString("bye $id"))
    }
}
