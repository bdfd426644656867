package dev.kcluster.testing

import dev.kcluster.ClientSocketReceivePipe
import java.net.UnixDomainSocketAddress
import java.nio.ByteBuffer
import java.nio.channels.SocketChannel
import java.nio.file.Path
import java.security.MessageDigest

/**
 * Child for the pipe tests: `serve PATH` answers each received client with what it got; `count PATH N` receives N sockets, closes them, and
 * prints its fd counts.
 */
object PipeChild {
    @JvmStatic
    fun main(args: Array<String>) {
        val ch = SocketChannel.open(UnixDomainSocketAddress.of(Path.of(args[1])))
        val pipe = ClientSocketReceivePipe(ch)
        when (args[0]) {
            "serve" ->
                while (true) {
                    val t = pipe.receiveBlocking() ?: break
                    val data = t.data?.bytes() ?: ByteArray(0)
                    val sha = MessageDigest.getInstance("SHA-256").digest(data).joinToString("") { "%02x".format(it) }
                    t.socket.use { s ->
                        val line = s.socket().getInputStream().bufferedReader().readLine()
                        s.write(
                            ByteBuffer.wrap(
                                "child ${ProcessHandle.current().pid()} got '$line' with ${data.size} bytes sha256=$sha\n".toByteArray()
                            )
                        )
                    }
                }
            "count" -> {
                val n = args[2].toInt()
                println("FD_BEFORE ${fdCount()}")
                repeat(n) { pipe.receiveBlocking()!!.socket.close() }
                println("FD_AFTER ${fdCount()}")
            }
        }
        System.out.flush()
    }
}
