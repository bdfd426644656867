package dev.kcluster.netty.internal

import dev.kcluster.netty.ServeOptions
import io.netty.bootstrap.ServerBootstrap
import io.netty.channel.ChannelFactory
import io.netty.channel.ChannelFutureListener
import io.netty.channel.ChannelInboundHandlerAdapter
import io.netty.channel.nio.NioEventLoopGroup
import io.netty.channel.socket.ServerSocketChannel
import java.util.concurrent.TimeUnit

/**
 * The boss and worker NIO event loops of one server, with every loop's thread already running. [dev.kcluster.netty.ClusterNetty] and
 * [dev.kcluster.netty.ClusterKtor] make them before they ask for the socket: a standby is held inside `listen()` until it is promoted, so
 * the loops are ready by then and a promotion only waits for the socket and the registration.
 */
internal class EventLoops(options: ServeOptions) {
    val boss = NioEventLoopGroup(options.bossThreads)
    val workers = NioEventLoopGroup(options.effectiveWorkerThreads())

    init {
        try {
            (boss + workers).map { it.submit {} }.forEach { it.syncUninterruptibly() }
        } catch (e: Throwable) {
            shutdownNow()
            throw e
        }
    }

    /**
     * Registers a server channel over a socket that is not bound, on [bootstrap]'s groups, and closes it: Netty's registration path runs
     * once in the background, so the real registration after `listen()` finds its code loaded and linked. A held standby does this while it
     * waits, which shortens promotion to first accept; other workers do it while their LISTEN is answered. An unbound socket takes no
     * connection. Failures are ignored (the real registration reports its own).
     */
    fun warmRegistration(bootstrap: ServerBootstrap = ServerBootstrap().group(boss, workers).childHandler(ChannelInboundHandlerAdapter())) {
        runCatching {
            val unbound = java.nio.channels.ServerSocketChannel.open()
            bootstrap
                .clone()
                .channelFactory(ChannelFactory<ServerSocketChannel> { PreboundServerSocketChannel(unbound, 1) })
                .register()
                .addListener(ChannelFutureListener { f -> if (f.isSuccess) f.channel().close() else unbound.close() })
        }
    }

    /** Stops both groups without a quiet period (a start that failed). */
    fun shutdownNow() {
        boss.shutdownGracefully(0, 0, TimeUnit.SECONDS)
        workers.shutdownGracefully(0, 0, TimeUnit.SECONDS)
    }
}
