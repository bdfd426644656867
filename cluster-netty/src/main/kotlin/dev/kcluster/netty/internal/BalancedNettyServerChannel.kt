package dev.kcluster.netty.internal

import dev.kcluster.internal.net.BalancedServerSocketChannel
import io.netty.channel.socket.nio.NioServerSocketChannel
import io.netty.channel.socket.nio.NioSocketChannel
import java.net.InetSocketAddress
import java.net.SocketAddress
import java.nio.channels.ServerSocketChannel
import java.util.concurrent.atomic.AtomicBoolean

/**
 * A Netty server channel for balance mode: its connections are not accepted from a socket but passed by the watcher
 * ([BalancedServerSocketChannel]). Each one becomes a `NioSocketChannel` child and goes down the server pipeline exactly as an accepted one
 * does (`ServerBootstrap`'s acceptor registers it on the child group with the child handler and options). Deliveries run as tasks on this
 * channel's event loop, in arrival order, so every connection passed before the watcher's STOP is delivered before a `close()` issued after
 * STOP. The NIO channel Netty registers with its selector is an unbound socket with no interest ops: it is never ready and never accepts.
 */
internal class BalancedNettyServerChannel(private val balanced: BalancedServerSocketChannel) :
    NioServerSocketChannel(ServerSocketChannel.open()) {
    private val scheduled = AtomicBoolean()
    private val deliver = Runnable {
        scheduled.set(false)
        var any = false
        while (isOpen) {
            val ch = balanced.poll() ?: break
            any = true
            try {
                pipeline().fireChannelRead(NioSocketChannel(this, ch))
            } catch (e: Throwable) {
                runCatching { ch.close() }
                pipeline().fireExceptionCaught(e)
            }
        }
        if (any) pipeline().fireChannelReadComplete()
    }

    override fun isActive(): Boolean = isOpen && balanced.isOpen

    override fun localAddress(): InetSocketAddress = balanced.localAddress as InetSocketAddress

    override fun localAddress0(): SocketAddress = balanced.localAddress

    override fun doBind(localAddress: SocketAddress?) {
        // the watcher's socket is already bound
    }

    override fun doBeginRead() {
        if (balanced.onAvailable != null) return
        balanced.onAvailable = Runnable { if (scheduled.compareAndSet(false, true)) eventLoop().execute(deliver) }
    }

    override fun doClose() {
        // what is already queued was scheduled before this close; anything later is closed with the listener
        deliver.run()
        balanced.close()
        super.doClose()
    }
}
