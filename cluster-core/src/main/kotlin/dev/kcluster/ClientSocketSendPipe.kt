package dev.kcluster

import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.ipc.message
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.adoptUnixChannel
import dev.kcluster.internal.net.isV6
import java.io.Closeable
import java.io.IOException
import java.net.InetSocketAddress
import java.nio.channels.SocketChannel

/**
 * Sends accepted client connections, each with an optional [Message] of any size up to the frame limit (16 MiB by default), to the process
 * at the other end of an AF_UNIX channel, where a [ClientSocketReceivePipe] takes them.
 */
public class ClientSocketSendPipe internal constructor(private val conn: Connection) : Closeable {
    /**
     * A pipe over [channel], a connected Unix-domain socket (for example from `SocketChannel.open(UnixDomainSocketAddress.of(path))`),
     * which it owns from now on.
     *
     * @throws IllegalArgumentException when [channel] is not a connected Unix-domain socket.
     */
    @Throws(IOException::class)
    public constructor(channel: SocketChannel) : this(Connection(adoptUnixChannel(channel), "client-send-pipe").start())

    /**
     * Sends [socket] with [data]. After a successful send this process's copy is closed (the receiver owns the connection); on failure the
     * caller keeps [socket], untouched, and gets the exception.
     *
     * @throws ProtocolException when [data] exceeds the frame limit.
     * @throws IOException when the pipe is closed or broken.
     */
    @JvmOverloads
    @Throws(IOException::class)
    public fun send(socket: SocketChannel, data: Message? = null) {
        conn.send(FrameType.CLIENT_SOCKET, encodeClientSocket(socket, data), JdkChannels.fdOf(socket))
        socket.close()
    }

    /** Closes the pipe. */
    override fun close(): Unit = conn.close()

    internal companion object {
        fun encodeClientSocket(socket: SocketChannel, data: Message?): ByteArray {
            val remote = socket.remoteAddress as? InetSocketAddress ?: throw IOException("socket is not a connected TCP socket: $socket")
            val w = PayloadWriter((data?.size ?: 0) + 64).bool(remote.isV6).str(remote.address.hostAddress).i32(remote.port)
            w.bool(data != null)
            if (data != null) w.message(data)
            return w.toByteArray()
        }
    }
}
