package dev.kcluster.netty.internal

import dev.kcluster.internal.net.HttpProbe
import io.netty.bootstrap.ServerBootstrap
import io.netty.channel.Channel
import io.netty.channel.ChannelFactory
import io.netty.channel.ChannelHandler
import io.netty.channel.ChannelHandlerAdapter
import io.netty.channel.ChannelInitializer
import io.netty.handler.ssl.SslHandler
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.Socket
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import org.slf4j.LoggerFactory

/**
 * A standby's warm-up ([dev.kcluster.netty.ServeOptions.standbyWarmup]), run before its first listen holds it. The server's own bootstrap
 * serves a private socket on an ephemeral loopback port for one connection from this JVM: the user's pipeline with the drain handlers, on
 * the same event loops, but not counted in the worker's load or HTTP metrics. When that pipeline has an HTTP/1 codec and no TLS, the
 * connection sends one `GET` and reads the answer; otherwise it only connects and closes. Then the socket is closed, so no client ever
 * reaches the standby through it (it takes one connection at most, and only while this runs).
 *
 * Why: a promoted standby's first request otherwise loads, links and runs the accept, pipeline and handler code cold. Measured here
 * (HelloHttp, JDK 25 with the AOT cache, 2 cores): the warm-up takes ~15 ms, and SIGKILL of a worker to the standby's first answer fell
 * from a median of ~54 ms to ~31 ms.
 */
internal object StandbyWarmup {
    const val USER_AGENT = "kcluster-warmup"
    private const val TIMEOUT_MILLIS = HttpProbe.TIMEOUT_MILLIS
    private val log = LoggerFactory.getLogger("dev.kcluster.netty.StandbyWarmup")

    /** Runs the warm-up of [user] (the program's child handler) on a clone of [bootstrap]; never throws: the outcome is logged (debug). */
    fun run(bootstrap: ServerBootstrap, user: ChannelHandler, drain: DrainControl, path: String) {
        // A handler that is not @Sharable can join one pipeline only: warming it would use up the real server's first connection.
        if (user is ChannelHandlerAdapter && !user.isSharable) {
            log.debug("standby warm-up skipped: the child handler {} is not @Sharable", user.javaClass.name)
            return
        }
        val t0 = System.nanoTime()
        val outcome = runCatching { exchange(bootstrap, user, drain, path) }.getOrElse { "failed ($it)" }
        log.debug("standby warm-up: {} in {} ms", outcome, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
    }

    private fun exchange(bootstrap: ServerBootstrap, user: ChannelHandler, drain: DrainControl, path: String): String {
        val speaksHttp = CompletableFuture<Boolean>()
        // The client's port is known before it connects, so a connection from anyone else is closed unserved.
        val client = Socket()
        val socket = java.nio.channels.ServerSocketChannel.open()
        val channel: Channel
        try {
            client.bind(InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            val clientPort = client.localPort
            socket.bind(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1)
            channel =
                bootstrap
                    .clone()
                    .channelFactory(ChannelFactory<io.netty.channel.socket.ServerSocketChannel> { PreboundServerSocketChannel(socket, 1) })
                    .childHandler(
                        object : ChannelInitializer<Channel>() {
                            override fun initChannel(ch: Channel) {
                                if ((ch.remoteAddress() as? InetSocketAddress)?.port != clientPort) {
                                    ch.close()
                                    return
                                }
                                ch.pipeline().addLast(user)
                                val state = installDrainHandlers(ch, drain, warmup = true)
                                speaksHttp.complete(state.http && ch.pipeline().get(SslHandler::class.java) == null)
                            }
                        }
                    )
                    .register()
                    .syncUninterruptibly()
                    .channel()
        } catch (e: Throwable) {
            socket.close()
            client.close()
            throw e
        }
        try {
            val address = socket.localAddress as InetSocketAddress
            client.use { s ->
                s.connect(address, TIMEOUT_MILLIS)
                if (!speaksHttp.get(TIMEOUT_MILLIS.toLong(), TimeUnit.MILLISECONDS)) return "connected only (no plain HTTP/1 codec)"
                return "GET $path: ${HttpProbe.get(s, path, USER_AGENT)}"
            }
        } finally {
            channel.close().awaitUninterruptibly(TIMEOUT_MILLIS.toLong())
        }
    }
}
