package dev.kcluster.netty.internal

import io.netty.channel.MaxMessagesRecvByteBufAllocator
import io.netty.channel.socket.nio.NioServerSocketChannel
import java.net.SocketAddress
import java.nio.channels.ServerSocketChannel

/**
 * A Netty NIO server channel over a socket that is already bound (by the watcher, or by [dev.kcluster.Cluster.serverSocketFactory]
 * standalone). It is active as soon as it is registered; `bind` is a no-op, so frameworks that always call `bind(host, port)` (Ktor) work
 * unchanged.
 */
internal class PreboundServerSocketChannel(channel: ServerSocketChannel, acceptBatch: Int) : NioServerSocketChannel(channel) {
    init {
        config().getRecvByteBufAllocator<MaxMessagesRecvByteBufAllocator>().maxMessagesPerRead(acceptBatch)
    }

    override fun doBind(localAddress: SocketAddress?) {
        // already bound
    }
}

/** The Netty server channel for [socket]: passed connections in balance mode, else accepted ones. */
internal fun serverChannelFor(socket: ServerSocketChannel, options: dev.kcluster.netty.ServeOptions): NioServerSocketChannel =
    if (socket is dev.kcluster.internal.net.BalancedServerSocketChannel) BalancedNettyServerChannel(socket)
    else PreboundServerSocketChannel(socket, options.acceptBatch)
