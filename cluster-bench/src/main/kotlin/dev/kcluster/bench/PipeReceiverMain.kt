package dev.kcluster.bench

import dev.kcluster.ClientSocketReceivePipe
import java.io.File
import java.nio.ByteBuffer
import kotlinx.coroutines.runBlocking
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel

/**
 * Child JVM of the transfer bench: connects to the AF_UNIX socket named by its one argument, receives client connections with a
 * [ClientSocketReceivePipe] and closes each one. A connection that arrives with data is the last of a batch: it gets one byte written into
 * it first, which the parent's timer waits for. Exits when the pipe closes (the parent is done or gone).
 */
public object PipeReceiverMain {
    /** Entry point: `PipeReceiverMain <socket path>`. */
    @JvmStatic
    public fun main(args: Array<String>) {
        require(args.size == 1) { "usage: PipeReceiverMain <AF_UNIX socket path>" }
        val pipe = ClientSocketReceivePipe(AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(File(args[0]))))
        val ack = ByteBuffer.allocate(1).put(0, 'k'.code.toByte())
        pipe.use {
            runBlocking {
                while (true) {
                    val t = pipe.receive() ?: break
                    t.socket.use { s ->
                        if (t.data != null) {
                            ack.rewind()
                            while (ack.hasRemaining()) s.write(ack)
                        }
                    }
                }
            }
        }
    }
}
