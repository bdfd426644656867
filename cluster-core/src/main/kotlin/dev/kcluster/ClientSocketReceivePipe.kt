package dev.kcluster

import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.Frame
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.message
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.adoptUnixChannel
import dev.kcluster.internal.net.closeQuietly
import java.io.Closeable
import java.io.IOException
import java.net.InetAddress
import java.net.InetSocketAddress
import java.nio.channels.SocketChannel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ClosedReceiveChannelException
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.runBlocking

/** Receives client connections sent by a [ClientSocketSendPipe]. Connections not yet received when the pipe closes are closed with it. */
public class ClientSocketReceivePipe internal constructor(private val conn: Connection) : Closeable {
    private val queue = Channel<Result<TransferredSocket>>(Channel.UNLIMITED) { r -> r.getOrNull()?.socket?.closeQuietly() }

    /**
     * A pipe over [channel], a connected Unix-domain socket (for example from `SocketChannel.open(UnixDomainSocketAddress.of(path))`),
     * which it owns from now on.
     *
     * @throws IllegalArgumentException when [channel] is not a connected Unix-domain socket.
     */
    @Throws(IOException::class)
    public constructor(channel: SocketChannel) : this(Connection(adoptUnixChannel(channel), "client-receive-pipe")) {
        conn.start()
    }

    init {
        conn.on(FrameType.CLIENT_SOCKET) { frame -> queue.trySend(runCatching { decode(frame) }) }
        conn.closed.whenComplete { error, _ -> queue.close(error?.let { IOException("client socket pipe failed: ${it.message}", it) }) }
    }

    /**
     * The next connection, suspending until one arrives; null once the pipe is closed.
     *
     * @throws IOException when the pipe broke (e.g. a malformed frame).
     */
    public suspend fun receive(): TransferredSocket? =
        try {
            queue.receive().getOrThrow()
        } catch (e: ClosedReceiveChannelException) {
            null
        }

    /** [receive] for callers that are not coroutines: blocks the calling thread. */
    @Throws(IOException::class, InterruptedException::class) public fun receiveBlocking(): TransferredSocket? = runBlocking { receive() }

    /** The connections as they arrive; completes when the pipe closes. Each connection goes to one collector. */
    public val sockets: Flow<TransferredSocket>
        get() = queue.receiveAsFlow().map { it.getOrThrow() }

    /** Closes the pipe and every connection not yet received. */
    override fun close() {
        conn.close()
    }

    internal companion object {
        fun decode(frame: Frame): TransferredSocket {
            val fd = frame.fd!!
            try {
                val r = PayloadReader(frame.payload, "CLIENT_SOCKET")
                val ipv6 = r.bool()
                val remote = InetSocketAddress(InetAddress.getByName(r.str()), r.i32())
                val data = if (r.bool()) r.message() else null
                return TransferredSocket(JdkChannels.socketChannel(fd, JdkChannels.family(ipv6), remote), data)
            } catch (e: Throwable) {
                fd.closeQuietly()
                throw e
            }
        }
    }
}
