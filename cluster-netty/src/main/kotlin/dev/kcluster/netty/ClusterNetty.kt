package dev.kcluster.netty

import dev.kcluster.Cluster
import dev.kcluster.netty.internal.EventLoops
import dev.kcluster.netty.internal.ServerDrainer
import dev.kcluster.netty.internal.StandbyWarmup
import dev.kcluster.netty.internal.serverChannelFor
import io.netty.bootstrap.ServerBootstrap
import io.netty.channel.ChannelFactory
import io.netty.channel.ChannelHandler
import io.netty.channel.ChannelOption
import io.netty.channel.socket.ServerSocketChannel
import java.io.IOException

/**
 * Serves a Netty application on a cluster socket with one call. The socket comes from [Cluster.serverSocketFactory]: the watcher's shared
 * socket in a worker, SO_REUSEPORT in reuse-port mode, or a locally bound one standalone, so the same program runs everywhere.
 *
 * Connections whose pipeline holds an `HttpServerCodec` (or request decoder and response encoder) drain the HTTP way on stop or restart;
 * see [ClusterNettyServer.drain].
 *
 * ```java
 * ClusterNetty.serve("127.0.0.1:8080", new ChannelInitializer<SocketChannel>() {
 *     protected void initChannel(SocketChannel ch) {
 *         ch.pipeline().addLast(new HttpServerCodec(), new HelloHandler());
 *     }
 * });
 * ```
 */
public object ClusterNetty {
    /**
     * Starts serving [childHandler] (usually a `ChannelInitializer`) on [address] and tells the watcher this worker is READY. Returns at
     * once; call [ClusterNettyServer.drain] (or [ClusterNettyServer.awaitTerminationAndDrain]) to end it.
     *
     * @throws java.net.BindException when the address cannot be bound.
     */
    @JvmStatic
    @JvmOverloads
    @Throws(IOException::class)
    public fun start(address: String, childHandler: ChannelHandler, options: ServeOptions = ServeOptions.DEFAULT): ClusterNettyServer {
        // Everything that does not need the socket comes first (see EventLoops): a standby is held inside listen() until it is promoted.
        val loops = EventLoops(options)
        var socket: java.nio.channels.ServerSocketChannel? = null
        try {
            val drainer = ServerDrainer(options.idleGrace, options.lingerTimeout, options.drainTimeout)
            val bootstrap =
                ServerBootstrap()
                    .group(loops.boss, loops.workers)
                    .childOption(ChannelOption.TCP_NODELAY, options.listenOptions.tcpNoDelay)
                    .childHandler(drainer.childHandler(childHandler))
            loops.warmRegistration(bootstrap)
            // A standby serves itself one request first (see ServeOptions.standbyWarmup); listen() then holds it until its promotion.
            options.standbyWarmup?.let { path -> if (Cluster.isStandby) StandbyWarmup.run(bootstrap, childHandler, drainer, path) }
            val listening = Cluster.serverSocketFactory().listen(address, options.listenOptions).also { socket = it }
            val channel =
                bootstrap
                    .channelFactory(ChannelFactory<ServerSocketChannel> { serverChannelFor(listening, options) })
                    .register()
                    .syncUninterruptibly()
                    .channel()
            Cluster.ready()
            return ClusterNettyServer(channel, loops.boss, loops.workers, drainer)
        } catch (e: Throwable) {
            socket?.close()
            loops.shutdownNow()
            throw e
        }
    }

    /**
     * [start], then block until this program should stop ([Cluster.awaitTerminationBlocking]), then drain. Returns when the server is fully
     * stopped.
     */
    @JvmStatic
    @JvmOverloads
    @Throws(IOException::class, InterruptedException::class)
    public fun serve(address: String, childHandler: ChannelHandler, options: ServeOptions = ServeOptions.DEFAULT) {
        start(address, childHandler, options).awaitTerminationAndDrain()
    }
}
