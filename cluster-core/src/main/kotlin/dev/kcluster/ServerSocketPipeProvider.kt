package dev.kcluster

import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.Frame
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.adoptUnixChannel
import dev.kcluster.internal.net.closeQuietly
import dev.kcluster.internal.net.format
import dev.kcluster.internal.net.isV6
import dev.kcluster.internal.net.parseAddress
import dev.kcluster.internal.systemd.SocketActivation
import java.io.Closeable
import java.io.IOException
import java.net.BindException
import java.net.InetSocketAddress
import java.net.StandardSocketOptions
import java.nio.channels.NetworkChannel
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import kotlinx.coroutines.future.await
import org.slf4j.LoggerFactory

/**
 * The watcher side of shared listening sockets: answers [ServerSocketPipeFactory] requests by binding each address once and sending the
 * socket's descriptor to every process that asks. All those processes then share one accept queue; port 0 gives all of them the same port.
 * Sockets stay bound (and their accept queues alive) until [close], across worker restarts.
 *
 * For SO_REUSEPORT listeners on port 0 it reserves the port instead: it binds a SO_REUSEPORT socket that never listens (so it takes no
 * connections), and every worker then binds its own listener to that port. The reservation keeps the port for the cluster until [close],
 * across restarts.
 */
public class ServerSocketPipeProvider : Closeable {
    private val bound = LinkedHashMap<String, ServerSocketChannel>()
    private val reserved = LinkedHashMap<String, SocketChannel>()
    private val activated = LinkedHashMap<String, SocketActivation.Activated>()
    private val activatedUsed = HashSet<String>()
    @Volatile private var closed = false

    /**
     * Serves requests arriving on [channel], a connected Unix-domain socket (for example accepted from
     * `ServerSocketChannel.open(StandardProtocolFamily.UNIX)`), until it closes; the channel belongs to this call from then on. Cancelling
     * the caller closes the channel.
     *
     * @throws IllegalArgumentException when [channel] is not a connected Unix-domain socket.
     */
    public suspend fun provideFor(channel: SocketChannel) {
        val conn = Connection(adoptUnixChannel(channel), "socket-provider")
        serve(conn)
        conn.start()
        try {
            conn.closed.await()
        } finally {
            conn.close()
        }
    }

    /** Registers the LISTEN handler on an internal connection. */
    internal fun serve(conn: Connection) {
        conn.on(FrameType.LISTEN) { frame -> answer(conn, frame) }
    }

    /** Takes over sockets passed by systemd: a listen on a matching address gets one of them instead of a new bind. */
    internal fun adopt(sockets: List<SocketActivation.Activated>) =
        synchronized(bound) {
            for (a in sockets) {
                val key = a.address.format()
                activated[key] = a
                bound[key] = a.channel
            }
        }

    /** The activated sockets no worker has asked for yet. */
    internal fun unusedActivated(): List<SocketActivation.Activated> =
        synchronized(bound) { activated.filterKeys { it !in activatedUsed }.values.toList() }

    /** The addresses bound so far, with their actual ports. */
    public val addresses: List<InetSocketAddress>
        get() = synchronized(bound) { (bound.values + reserved.values).map { it.localAddress as InetSocketAddress } }

    private fun answer(conn: Connection, frame: Frame) {
        val r = PayloadReader(frame.payload, "LISTEN")
        val id = r.i32()
        val address = r.str()
        val options = ListenOptions(backlog = r.i32().coerceAtLeast(1), reuseAddress = r.bool(), tcpNoDelay = r.bool())
        val reserve = r.bool()
        val channel: NetworkChannel =
            try {
                if (reserve) reservationFor(address, options) else socketFor(address, options)
            } catch (e: Exception) {
                log.warn("cannot listen on {} for {}: {}", address, conn.name, e.message)
                conn.send(FrameType.LISTEN_ERR, PayloadWriter().i32(id).str(e.javaClass.name).str(e.message ?: e.toString()).toByteArray())
                return
            }
        val local = channel.localAddress as InetSocketAddress
        val payload = PayloadWriter().i32(id).bool(local.isV6).str(local.address.hostAddress).i32(local.port).toByteArray()
        conn.send(FrameType.LISTEN_OK, payload, JdkChannels.fdOf(channel))
    }

    internal fun socketFor(address: String, options: ListenOptions): ServerSocketChannel {
        val requested = parseAddress(address)
        val key = requested.format()
        synchronized(bound) {
            check(!closed) { "socket provider is closed" }
            // An activated wildcard socket (0.0.0.0:P or [::]:P) serves any listen on port P.
            val match =
                if (key in activated) key
                else
                    activated.entries
                        .firstOrNull { (_, a) ->
                            a.address.address.isAnyLocalAddress && a.address.port == requested.port && requested.port != 0
                        }
                        ?.key
            if (match != null) {
                activatedUsed += match
                return activated.getValue(match).channel
            }
            return bound.getOrPut(key) {
                LocalServerSocketFactory.bindLocal(address, options).also {
                    log.info("listening on {}", (it.localAddress as InetSocketAddress).format())
                }
            }
        }
    }

    /** The SO_REUSEPORT port reserved for [address] (port 0): a bound socket that does not listen. */
    private fun reservationFor(address: String, options: ListenOptions): SocketChannel {
        val addr = parseAddress(address)
        require(addr.port == 0) { "only port 0 is reserved, not ${addr.format()}" }
        synchronized(bound) {
            check(!closed) { "socket provider is closed" }
            return reserved.getOrPut(addr.format()) {
                val ch = SocketChannel.open(JdkChannels.family(addr.isV6))
                try {
                    ch.setOption(StandardSocketOptions.SO_REUSEADDR, options.reuseAddress)
                    ch.setOption(StandardSocketOptions.SO_REUSEPORT, true)
                    ch.bind(addr)
                } catch (e: IOException) {
                    ch.closeQuietly()
                    throw BindException("cannot reserve a port on ${addr.format()}: ${e.message}").apply { initCause(e) }
                }
                log.info("reserved {} for SO_REUSEPORT listeners", (ch.localAddress as InetSocketAddress).format())
                ch
            }
        }
    }

    /** Closes every bound socket and reservation. */
    override fun close() {
        synchronized(bound) {
            closed = true
            bound.values.forEach { it.closeQuietly() }
            bound.clear()
            reserved.values.forEach { it.closeQuietly() }
            reserved.clear()
        }
    }

    private companion object {
        private val log = LoggerFactory.getLogger(ServerSocketPipeProvider::class.java)
    }
}
