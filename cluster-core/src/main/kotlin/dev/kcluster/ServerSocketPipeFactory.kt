package dev.kcluster

import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.net.BalancedServerSocketChannel
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.adoptUnixChannel
import dev.kcluster.internal.net.closeQuietly
import dev.kcluster.internal.net.format
import dev.kcluster.internal.net.parseAddress
import dev.kcluster.internal.worker.LoadCounters
import java.io.Closeable
import java.io.IOException
import java.net.BindException
import java.net.InetSocketAddress
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import java.util.concurrent.atomic.AtomicInteger

/** How long a worker waits for the watcher to answer a LISTEN request (the one definition). */
internal const val LISTEN_TIMEOUT_MILLIS: Long = 30_000

/**
 * The worker side of shared listening sockets: a [ServerSocketFactory] that asks the process at the other end of an AF_UNIX channel (a
 * [ServerSocketPipeProvider]) for the socket. With [ListenOptions.reusePort] it binds its own socket with SO_REUSEPORT instead; for port 0
 * it first asks the provider for the port it reserved, so that every process listens on the same port.
 */
public class ServerSocketPipeFactory
internal constructor(
    private val conn: Connection,
    private val timeoutMillis: Long = LISTEN_TIMEOUT_MILLIS,
    private val beforeListen: () -> Unit = {},
    private val onListen: () -> Unit = {},
) : ServerSocketFactory, Closeable {
    private val nextId = AtomicInteger()
    private val pending = ConcurrentHashMap<Int, CompletableFuture<ServerSocketChannel>>()
    private val pendingBacklog = ConcurrentHashMap<Int, Int>()

    /** Balance mode: this worker's listeners, by the watcher's listener id. */
    private val balanced = ConcurrentHashMap<Int, BalancedServerSocketChannel>()

    /**
     * A factory over [channel], a connected Unix-domain socket (for example from `SocketChannel.open(UnixDomainSocketAddress.of(path))`),
     * which it owns from now on.
     *
     * @throws IllegalArgumentException when [channel] is not a connected Unix-domain socket.
     */
    @Throws(IOException::class)
    public constructor(channel: SocketChannel) : this(Connection(adoptUnixChannel(channel), "socket-factory")) {
        conn.start()
    }

    init {
        conn.on(FrameType.LISTEN_OK) { frame ->
            val r = PayloadReader(frame.payload, "LISTEN_OK")
            val future = pending.remove(r.i32())
            val family = JdkChannels.family(ipv6 = r.bool())
            val fd = frame.fd!!
            if (future == null) {
                fd.closeQuietly()
                return@on
            }
            try {
                future.complete(JdkChannels.serverChannel(fd, family))
            } catch (e: Throwable) {
                fd.closeQuietly()
                future.completeExceptionally(e)
            }
        }
        conn.on(FrameType.LISTEN_ERR) { frame ->
            val r = PayloadReader(frame.payload, "LISTEN_ERR")
            val future = pending.remove(r.i32()) ?: return@on
            r.str()
            future.completeExceptionally(BindException(r.str()))
        }
        conn.on(FrameType.LISTEN_BALANCED) { frame ->
            val r = PayloadReader(frame.payload, "LISTEN_BALANCED")
            val id = r.i32()
            val listener = r.i32()
            r.bool()
            val local = InetSocketAddress(java.net.InetAddress.getByName(r.str()), r.i32())
            val future = pending.remove(id) ?: return@on
            val channel =
                BalancedServerSocketChannel(local, pendingBacklog.remove(id) ?: 1024) {
                    balanced.remove(listener)
                    runCatching { conn.send(FrameType.UNLISTEN, PayloadWriter().i32(listener).toByteArray()) }
                }
            balanced[listener] = channel
            future.complete(channel)
        }
        conn.on(FrameType.ACCEPTED) { frame ->
            val fd = frame.fd!!
            LoadCounters.received.incrementAndGet()
            val socket =
                try {
                    val r = PayloadReader(frame.payload, "ACCEPTED")
                    val listener = r.i32()
                    val ipv6 = r.bool()
                    val remote = InetSocketAddress(java.net.InetAddress.getByName(r.str()), r.i32())
                    listener to JdkChannels.socketChannel(fd, JdkChannels.family(ipv6), remote)
                } catch (e: Throwable) {
                    fd.closeQuietly()
                    throw e
                }
            val target = balanced[socket.first]
            if (target == null) socket.second.closeQuietly() else target.offer(socket.second)
        }
        conn.closed.whenComplete { error, _ ->
            val e = IOException("connection to the watcher closed", error)
            pending.values.forEach { it.completeExceptionally(e) }
        }
    }

    @Throws(IOException::class)
    override fun listen(address: String, options: ListenOptions): ServerSocketChannel {
        val channel = if (options.reusePort) bindReusePort(address, options) else request(address, options)
        if (options.tcpNoDelay && channel !is BalancedServerSocketChannel) setNoDelay(channel)
        onListen()
        return channel
    }

    private fun bindReusePort(address: String, options: ListenOptions): ServerSocketChannel {
        val addr = parseAddress(address)
        if (addr.port != 0) {
            beforeListen()
            return LocalServerSocketFactory.bindLocal(address, options)
        }
        // The provider's reservation is a bound socket that does not listen; only its port is needed here.
        val port = request(address, options, reservePort = true).use { (it.localAddress as InetSocketAddress).port }
        return LocalServerSocketFactory.bindLocal(InetSocketAddress(addr.address, port).format(), options)
    }

    private fun request(address: String, options: ListenOptions, reservePort: Boolean = false): ServerSocketChannel {
        val id = nextId.incrementAndGet()
        val future = CompletableFuture<ServerSocketChannel>()
        pending[id] = future
        pendingBacklog[id] = options.backlog
        val payload =
            PayloadWriter()
                .i32(id)
                .str(address)
                .i32(options.backlog)
                .bool(options.reuseAddress)
                .bool(options.tcpNoDelay)
                .bool(reservePort)
                .toByteArray()
        try {
            conn.send(FrameType.LISTEN, payload)
            // A standby is held here, with its LISTEN sent: the watcher answers it when it promotes the standby.
            beforeListen()
            return future.get(timeoutMillis, TimeUnit.MILLISECONDS)
        } catch (e: ExecutionException) {
            when (val cause = e.cause) {
                is BindException -> throw BindException("cannot listen on ${parseAddress(address).format()}: ${cause.message}")
                is IOException -> throw IOException("cannot listen on $address: ${cause.message}", cause)
                else -> throw IOException("cannot listen on $address: $cause", cause)
            }
        } catch (e: TimeoutException) {
            throw IOException("cannot listen on $address: the watcher did not answer within $timeoutMillis ms")
        } finally {
            pending.remove(id)
            pendingBacklog.remove(id)
        }
    }

    /** Closes the channel to the provider (sockets already received stay open). */
    override fun close(): Unit = conn.close()
}
