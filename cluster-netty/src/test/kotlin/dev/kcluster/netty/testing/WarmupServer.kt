package dev.kcluster.netty.testing

import dev.kcluster.Cluster
import dev.kcluster.Message
import dev.kcluster.netty.ClusterNetty
import dev.kcluster.netty.ServeOptions
import io.netty.buffer.ByteBuf
import io.netty.buffer.Unpooled
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInboundHandlerAdapter
import io.netty.channel.ChannelInitializer
import io.netty.channel.socket.SocketChannel
import io.netty.handler.codec.http.DefaultFullHttpResponse
import io.netty.handler.codec.http.HttpHeaderNames
import io.netty.handler.codec.http.HttpRequest
import io.netty.handler.codec.http.HttpResponseStatus
import io.netty.handler.codec.http.HttpServerCodec
import io.netty.util.ReferenceCountUtil

/**
 * A test worker on [ClusterNetty] that tells the watcher, as a message, what reaches it: `request <standby> <user agent> <path> <counted>`
 * for each HTTP request (`<counted>`: the requests its load reports count so far, this one included), or with `raw` (no HTTP codec)
 * `connection <standby>` and `bytes <standby> <n>`; `<standby>` is [Cluster.isStandby] then. Modes: `http` (standby warm-up of `/warm`),
 * `raw`, `off` (HTTP, warm-up off). HTTP answers carry `X-Worker-Id` and keep the connection open whatever the request asks, so a client
 * must find the end of a response by its length.
 */
object WarmupServer {
    private fun report(text: String) = Cluster.channel.send(Message.ofString(text))

    /** The worker's request counter, the one its load reports carry (cluster-core's internal `LoadCounters.requests`). */
    private val counted: java.util.concurrent.atomic.AtomicLong by lazy {
        val c = Class.forName("dev.kcluster.internal.worker.LoadCounters")
        c.getMethod("getRequests").invoke(c.getField("INSTANCE").get(null)) as java.util.concurrent.atomic.AtomicLong
    }

    @JvmStatic
    fun main(args: Array<String>) {
        val mode = args.single()
        val options = ServeOptions.builder().standbyWarmup(if (mode == "off") null else "/warm").build()
        ClusterNetty.serve(
            "127.0.0.1:0",
            object : ChannelInitializer<SocketChannel>() {
                override fun initChannel(ch: SocketChannel) {
                    if (mode == "raw") ch.pipeline().addLast(RawCounter()) else ch.pipeline().addLast(HttpServerCodec(), Answer())
                }
            },
            options,
        )
    }

    private class Answer : ChannelInboundHandlerAdapter() {
        override fun channelRead(ctx: ChannelHandlerContext, msg: Any) {
            if (msg is HttpRequest) {
                report("request ${Cluster.isStandby} ${msg.headers().get(HttpHeaderNames.USER_AGENT)} ${msg.uri()} ${counted.get()}")
                val body = Unpooled.copiedBuffer("worker ${Cluster.workerId}".toByteArray())
                val res = DefaultFullHttpResponse(msg.protocolVersion(), HttpResponseStatus.OK, body)
                res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes()).set("X-Worker-Id", Cluster.workerId)
                ctx.writeAndFlush(res)
            }
            ReferenceCountUtil.release(msg)
        }
    }

    private class RawCounter : ChannelInboundHandlerAdapter() {
        override fun channelActive(ctx: ChannelHandlerContext) {
            report("connection ${Cluster.isStandby}")
            ctx.fireChannelActive()
        }

        override fun channelRead(ctx: ChannelHandlerContext, msg: Any) {
            if (msg is ByteBuf) report("bytes ${Cluster.isStandby} ${msg.readableBytes()}")
            ReferenceCountUtil.release(msg)
        }
    }
}
