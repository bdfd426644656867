package dev.kcluster.samples

import dev.kcluster.Cluster
import dev.kcluster.netty.ClusterNetty
import dev.kcluster.netty.ServeOptions
import io.netty.buffer.Unpooled
import io.netty.channel.ChannelFutureListener
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInboundHandlerAdapter
import io.netty.channel.ChannelInitializer
import io.netty.channel.socket.SocketChannel
import io.netty.handler.codec.http.DefaultFullHttpResponse
import io.netty.handler.codec.http.HttpHeaderNames
import io.netty.handler.codec.http.HttpHeaderValues
import io.netty.handler.codec.http.HttpRequest
import io.netty.handler.codec.http.HttpResponseStatus
import io.netty.handler.codec.http.HttpServerCodec
import io.netty.handler.codec.http.HttpUtil
import io.netty.util.ReferenceCountUtil
import org.slf4j.LoggerFactory

/**
 * Netty HTTP/1.1 "Hello, World!" on the cluster's listening socket, with an `X-Worker-Id` header. `--port N` (default 8080), bound to
 * 127.0.0.1; `--threads N` event-loop threads (default: the cores shared out among the workers). Runs standalone too (`X-Worker-Id:
 * standalone`).
 */
public object HelloHttp {
    /** Entry point: `HelloHttp [--port N] [--threads N]`. */
    @JvmStatic
    public fun main(args: Array<String>) {
        val port = Args.int(args, "--port", 8080)
        val threads = Args.int(args, "--threads", 0)
        val workerId = Cluster.workerId?.toString() ?: "standalone"
        val options = ServeOptions.builder().workerThreads(threads).build()
        val server =
            ClusterNetty.start(
                "127.0.0.1:$port",
                object : ChannelInitializer<SocketChannel>() {
                    override fun initChannel(ch: SocketChannel) {
                        ch.pipeline().addLast(HttpServerCodec(), HelloHandler(workerId))
                    }
                },
                options,
            )
        LoggerFactory.getLogger(HelloHttp::class.java)
            .info("HelloHttp listening on http://127.0.0.1:{}/ (worker {})", server.port, workerId)
        server.awaitTerminationAndDrain()
    }
}

/** Answers every request with "Hello, World!"; flushes once per read batch. */
internal class HelloHandler(private val workerId: String) : ChannelInboundHandlerAdapter() {
    private companion object {
        val body = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes("Hello, World!".toByteArray()))
    }

    override fun channelRead(ctx: ChannelHandlerContext, msg: Any) {
        if (msg is HttpRequest) {
            val keepAlive = HttpUtil.isKeepAlive(msg)
            val res = DefaultFullHttpResponse(msg.protocolVersion(), HttpResponseStatus.OK, body.duplicate())
            res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set("X-Worker-Id", workerId)
            if (keepAlive) {
                if (!msg.protocolVersion().isKeepAliveDefault) res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE)
                ctx.write(res)
            } else {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE)
            }
        }
        ReferenceCountUtil.release(msg)
    }

    override fun channelReadComplete(ctx: ChannelHandlerContext) {
        ctx.flush()
    }

    override fun exceptionCaught(ctx: ChannelHandlerContext, cause: Throwable) {
        ctx.close()
    }
}
