package dev.kcluster.internal.net

import dev.kcluster.InternalKclusterApi
import java.io.IOException
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.SocketAddress
import java.net.SocketOption
import java.net.StandardSocketOptions
import java.nio.channels.AlreadyBoundException
import java.nio.channels.AsynchronousCloseException
import java.nio.channels.ClosedChannelException
import java.nio.channels.IllegalBlockingModeException
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.nio.channels.spi.SelectorProvider
import java.util.concurrent.ArrayBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicLong
import org.slf4j.LoggerFactory

/**
 * What a worker's `listen()` returns in balance mode: a [ServerSocketChannel] whose [accept] yields the connections the watcher's balancer
 * passed to this worker (at most [capacity] waiting; more are closed, counted and logged, like a full kernel accept queue). Blocking and
 * non-blocking [accept] work; a JDK `Selector` cannot take it (the JDK only selects its own channels): cluster-netty uses [onAvailable]
 * instead. Closing it tells the watcher to stop routing to this worker for this address, and closes what waits.
 */
@InternalKclusterApi
public class BalancedServerSocketChannel
internal constructor(private val address: InetSocketAddress, private val capacity: Int, private val onClose: () -> Unit) :
    ServerSocketChannel(SelectorProvider.provider()) {
    private val queue = ArrayBlockingQueue<SocketChannel>(capacity)
    private val dropped = AtomicLong()

    /** Called (on the IPC reader thread) after each connection is queued; set it before taking any. */
    @Volatile
    public var onAvailable: Runnable? = null
        set(value) {
            field = value
            if (value != null && queue.isNotEmpty()) value.run()
        }

    /** Connections closed because [capacity] were already waiting. */
    public val droppedCount: Long
        get() = dropped.get()

    /** The next waiting connection, or null; never blocks. */
    public fun poll(): SocketChannel? = queue.poll()

    internal fun offer(ch: SocketChannel) {
        if (!isOpen || !queue.offer(ch)) {
            ch.closeQuietly()
            if (isOpen && dropped.incrementAndGet().let { it == 1L || it % 1000 == 0L }) {
                log.warn(
                    "{} connections closed: {} already wait for accept() on {} (the program does not accept fast enough)",
                    dropped.get(),
                    capacity,
                    address,
                )
            }
            return
        }
        onAvailable?.run()
        // closed while we were queueing
        if (!isOpen) drainClosed()
    }

    @Throws(IOException::class)
    override fun accept(): SocketChannel? {
        if (!isOpen) throw ClosedChannelException()
        if (!isBlocking) return queue.poll()
        while (true) {
            queue.poll(50, TimeUnit.MILLISECONDS)?.let {
                return it
            }
            if (!isOpen) throw AsynchronousCloseException()
        }
    }

    override fun bind(local: SocketAddress?, backlog: Int): ServerSocketChannel = throw AlreadyBoundException()

    override fun <T : Any?> setOption(name: SocketOption<T>?, value: T): ServerSocketChannel = this

    @Suppress("UNCHECKED_CAST")
    override fun <T : Any?> getOption(name: SocketOption<T>?): T =
        when (name) {
            StandardSocketOptions.SO_REUSEADDR -> true as T
            StandardSocketOptions.SO_RCVBUF -> 65536 as T
            else -> throw UnsupportedOperationException("$name on a balanced listener")
        }

    override fun supportedOptions(): Set<SocketOption<*>> = setOf(StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_RCVBUF)

    override fun socket(): ServerSocket = adaptor

    override fun getLocalAddress(): SocketAddress {
        if (!isOpen) throw ClosedChannelException()
        return address
    }

    override fun implCloseSelectableChannel() {
        runCatching(onClose)
        drainClosed()
    }

    private fun drainClosed() {
        while (true) (queue.poll() ?: return).closeQuietly()
    }

    override fun implConfigureBlocking(block: Boolean) {}

    override fun toString(): String = "BalancedServerSocketChannel($address)"

    private val adaptor: ServerSocket by lazy {
        object : ServerSocket() {
            override fun accept(): Socket {
                if (!isBlocking) throw IllegalBlockingModeException()
                return this@BalancedServerSocketChannel.accept()!!.socket()
            }

            override fun isBound(): Boolean = true

            override fun isClosed(): Boolean = !this@BalancedServerSocketChannel.isOpen

            override fun getLocalPort(): Int = address.port

            override fun getInetAddress(): InetAddress = address.address

            override fun getLocalSocketAddress(): SocketAddress = address

            override fun getChannel(): ServerSocketChannel = this@BalancedServerSocketChannel

            override fun close() = this@BalancedServerSocketChannel.close()

            override fun setReuseAddress(on: Boolean) {}

            override fun getReuseAddress(): Boolean = true

            override fun setReceiveBufferSize(size: Int) {}

            override fun getReceiveBufferSize(): Int = 65536

            override fun setSoTimeout(timeout: Int) {}

            override fun getSoTimeout(): Int = 0

            override fun toString(): String = "ServerSocket[balanced $address]"
        }
    }

    private companion object {
        private val log = LoggerFactory.getLogger(BalancedServerSocketChannel::class.java)
    }
}
