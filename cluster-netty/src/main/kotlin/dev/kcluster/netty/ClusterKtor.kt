package dev.kcluster.netty

import dev.kcluster.Cluster
import dev.kcluster.netty.internal.EventLoops
import dev.kcluster.netty.internal.ServerDrainer
import dev.kcluster.netty.internal.serverChannelFor
import io.ktor.server.application.Application
import io.ktor.server.engine.EmbeddedServer
import io.ktor.server.engine.applicationEnvironment
import io.ktor.server.engine.connector
import io.ktor.server.engine.embeddedServer
import io.ktor.server.netty.Netty
import io.ktor.server.netty.NettyApplicationEngine
import io.netty.channel.ChannelFactory
import io.netty.channel.socket.ServerSocketChannel
import java.io.IOException
import java.net.InetSocketAddress

/** A Ktor server on Netty as [ClusterKtor.start] returns it. */
public typealias KtorNettyServer = EmbeddedServer<NettyApplicationEngine, NettyApplicationEngine.Configuration>

/**
 * Serves a Ktor application (Netty engine) on a cluster socket, and drains it on stop or restart like [ClusterNetty].
 *
 * How: Ktor's Netty engine always calls `bind(host, port)` on a channel its bootstrap creates. We give the engine, through
 * `configureBootstrap`, our own NIO event loops and a channel factory that returns the cluster's already-bound socket wrapped in a Netty
 * channel whose `bind` is a no-op; and, through `channelPipelineConfig`, we add the drain handlers after Ktor's HTTP codec. Ktor's own
 * engine, routing and plugins run unchanged.
 *
 * ```kotlin
 * ClusterKtor.serve("127.0.0.1:8080") {
 *     routing { get("/") { call.respondText("hi") } }
 * }
 * ```
 */
public object ClusterKtor {
    /**
     * Starts [module] on [address] and tells the watcher this worker is READY; returns at once. [configure] tunes the Netty engine further
     * (do not replace `configureBootstrap` or `channelPipelineConfig`: they carry the cluster socket and the drain).
     *
     * @throws java.net.BindException when the address cannot be bound.
     */
    @Throws(IOException::class)
    public fun start(
        address: String,
        options: ServeOptions = ServeOptions.DEFAULT,
        configure: NettyApplicationEngine.Configuration.() -> Unit = {},
        module: Application.() -> Unit,
    ): ClusterKtorServer {
        // The event loops first (see EventLoops): a standby is held inside listen() until it is promoted.
        val loops = EventLoops(options)
        val socket =
            try {
                loops.warmRegistration()
                Cluster.serverSocketFactory().listen(address, options.listenOptions)
            } catch (e: Throwable) {
                loops.shutdownNow()
                throw e
            }
        val bound = socket.localAddress as InetSocketAddress
        val drainer = ServerDrainer(options.idleGrace, options.lingerTimeout, options.drainTimeout)
        var serverChannel: io.netty.channel.Channel? = null
        try {
            val server =
                embeddedServer(
                    Netty,
                    applicationEnvironment(),
                    configure = {
                        configure()
                        connectors.clear()
                        connector {
                            host = bound.address.hostAddress
                            port = bound.port
                        }
                        configureBootstrap = {
                            group(loops.boss, loops.workers)
                            channelFactory(
                                ChannelFactory<ServerSocketChannel> { serverChannelFor(socket, options).also { serverChannel = it } }
                            )
                        }
                        channelPipelineConfig = { drainer.track(channel()) }
                    },
                    module = module,
                )
            server.start(wait = false)
            Cluster.ready()
            return ClusterKtorServer(server, serverChannel!!, drainer, bound)
        } catch (e: Throwable) {
            socket.close()
            loops.shutdownNow()
            throw e
        }
    }

    /** [start], then block until this program should stop, then drain. Returns when the server has stopped. */
    @Throws(IOException::class, InterruptedException::class)
    public fun serve(
        address: String,
        options: ServeOptions = ServeOptions.DEFAULT,
        configure: NettyApplicationEngine.Configuration.() -> Unit = {},
        module: Application.() -> Unit,
    ) {
        start(address, options, configure, module).awaitTerminationAndDrain()
    }
}

/** A Ktor server on a cluster socket, started by [ClusterKtor.start]. */
public class ClusterKtorServer
internal constructor(
    /** The Ktor server (its `application`, `monitor`, `engine`). */
    public val server: KtorNettyServer,
    private val channel: io.netty.channel.Channel,
    private val drainer: ServerDrainer,
    /** The address the socket is bound to, with its actual port. */
    public val localAddress: InetSocketAddress,
) {
    private val drained = java.util.concurrent.atomic.AtomicBoolean()

    /** The bound port. */
    public val port: Int
        get() = localAddress.port

    /**
     * Stops accepting, drains connections as [ClusterNettyServer.drain] does (WebSocket and other upgraded connections are waited for until
     * [ServeOptions.drainTimeout], then closed), then stops Ktor. Blocking; idempotent.
     */
    public fun drain() {
        if (!drained.compareAndSet(false, true)) return
        channel.close().awaitUninterruptibly(5_000)
        drainer.drain()
        server.stop(0, 2_000)
    }

    /** Waits for [Cluster.awaitTerminationBlocking], then [drain]s. */
    @Throws(InterruptedException::class)
    public fun awaitTerminationAndDrain() {
        Cluster.awaitTerminationBlocking()
        drain()
    }
}
