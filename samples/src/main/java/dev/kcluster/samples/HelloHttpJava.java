package dev.kcluster.samples;

import dev.kcluster.Cluster;
import dev.kcluster.netty.ClusterNetty;
import dev.kcluster.netty.ClusterNettyServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The Java version of {@link HelloHttp}: Netty HTTP/1.1 "Hello, World!" on the cluster socket, with an
 * {@code X-Worker-Id} header; {@code --port N} (default 8080) on 127.0.0.1; runs standalone too.
 */
public final class HelloHttpJava {
    private HelloHttpJava() {
    }

    /** Entry point: {@code HelloHttpJava [--port N]}. */
    public static void main(String[] args) throws Exception {
        int port = 8080;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port")) {
                if (i + 1 >= args.length) usage("--port needs a value (e.g. --port 8080)");
                try {
                    port = Integer.parseInt(args[++i]);
                } catch (NumberFormatException e) {
                    usage("--port expects a number 0-65535, got '" + args[i] + "' (e.g. --port 8080)");
                }
            }
        }
        Integer id = Cluster.workerId();
        String workerId = id == null ? "standalone" : id.toString();
        ClusterNettyServer server = ClusterNetty.start("127.0.0.1:" + port, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpServerCodec(), new Hello(workerId));
            }
        });
        System.out.println("HelloHttpJava listening on http://127.0.0.1:" + server.getPort() + "/ (worker " + workerId + ")");
        server.awaitTerminationAndDrain();
    }

    private static void usage(String message) {
        System.err.println(message);
        System.exit(2);
    }

    private static final class Hello extends ChannelInboundHandlerAdapter {
        private static final ByteBuf BODY = Unpooled.unreleasableBuffer(
                Unpooled.directBuffer().writeBytes("Hello, World!".getBytes(StandardCharsets.US_ASCII)));
        private final String workerId;

        Hello(String workerId) {
            this.workerId = workerId;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest) {
                    HttpRequest req = (HttpRequest) msg;
                    FullHttpResponse res = new DefaultFullHttpResponse(req.protocolVersion(), HttpResponseStatus.OK, BODY.duplicate());
                    res.headers()
                            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                            .setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.readableBytes())
                            .set("X-Worker-Id", workerId);
                    if (HttpUtil.isKeepAlive(req)) {
                        if (!req.protocolVersion().isKeepAliveDefault()) {
                            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                        }
                        ctx.write(res);
                    } else {
                        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
