package dev.kcluster.netty

import dev.kcluster.Cluster
import dev.kcluster.netty.internal.ServerDrainer
import io.netty.channel.Channel
import io.netty.channel.EventLoopGroup
import java.net.InetSocketAddress
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import org.slf4j.LoggerFactory

/** A Netty server serving on a cluster socket, started by [ClusterNetty.start]. It is already accepting; [drain] ends it gracefully. */
public class ClusterNettyServer
internal constructor(
    /** The Netty server channel (a NIO channel over the cluster's listening socket). */
    public val channel: Channel,
    private val boss: EventLoopGroup,
    private val workers: EventLoopGroup,
    private val drainer: ServerDrainer,
) {
    private val log = LoggerFactory.getLogger(ClusterNettyServer::class.java)
    private val drained = AtomicBoolean()

    /** The address the socket is bound to, with its actual port. */
    public val localAddress: InetSocketAddress
        get() = channel.localAddress() as InetSocketAddress

    /** The bound port (the real one when the address asked for port 0). */
    public val port: Int
        get() = localAddress.port

    /** True once [drain] has begun. */
    public val isDraining: Boolean
        get() = drainer.draining

    /** How many connections are open now. */
    public val connectionCount: Int
        get() = drainer.connections.size

    /**
     * Ends the server gracefully, blocking until done: stops accepting (in a worker this closes only this process's copy of the shared
     * socket, so other workers keep serving its accept queue), answers requests in progress and already received with `Connection: close`,
     * closes idle keep-alive connections after [ServeOptions.idleGrace], closes what is left after [ServeOptions.drainTimeout], then shuts
     * the event loops down. Idempotent.
     */
    public fun drain() {
        if (!drained.compareAndSet(false, true)) return
        channel.close().awaitUninterruptibly(5_000)
        drainer.drain()
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS)
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5_000)
        boss.terminationFuture().awaitUninterruptibly(5_000)
        log.info("server on {} stopped", runCatching { localAddress }.getOrNull() ?: "?")
    }

    /** Waits for [Cluster.awaitTerminationBlocking] (the watcher's STOP, or a signal standalone), then [drain]s. */
    @Throws(InterruptedException::class)
    public fun awaitTerminationAndDrain() {
        Cluster.awaitTerminationBlocking()
        drain()
    }
}
