// Two workers share one HTTP port; each answers with its worker id. Port: the first argument (default 8080).
import io.netty.buffer.Unpooled
import io.netty.channel.ChannelFutureListener
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInitializer
import io.netty.channel.SimpleChannelInboundHandler
import io.netty.channel.socket.SocketChannel
import io.netty.handler.codec.http.DefaultFullHttpResponse
import io.netty.handler.codec.http.FullHttpRequest
import io.netty.handler.codec.http.HttpHeaderNames
import io.netty.handler.codec.http.HttpObjectAggregator
import io.netty.handler.codec.http.HttpResponseStatus
import io.netty.handler.codec.http.HttpServerCodec

val port = args.firstOrNull() ?: "8080"

workers(2)
onMessage<String> { msg -> log.info("worker {}: {}", msg.worker.id, msg.data) }
worker {
    val greeting = "Hello from worker $workerId\n"
    val server = ClusterNetty.start("127.0.0.1:$port", object : ChannelInitializer<SocketChannel>() {
        override fun initChannel(ch: SocketChannel) {
            ch.pipeline().addLast(HttpServerCodec(), HttpObjectAggregator(64 * 1024), object : SimpleChannelInboundHandler<FullHttpRequest>() {
                override fun channelRead0(ctx: ChannelHandlerContext, request: FullHttpRequest) {
                    val body = Unpooled.copiedBuffer(greeting, Charsets.UTF_8)
                    val response = DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.OK, body)
                    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain").setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE)
                }
            })
        }
    })
    send("serving http://127.0.0.1:${server.port}/")
    awaitTermination()
    server.drain()
}
