package dev.kcluster.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The Java API, from Java: start a server with a ChannelInitializer and ServeOptions, call it, drain it. */
class ClusterNettyJavaTest {
    @Test
    void javaCallerStartsServesAndDrains() throws Exception {
        ServeOptions options = ServeOptions.builder().workerThreads(1).idleGrace(Duration.ofMillis(200)).build();
        ClusterNettyServer server = ClusterNetty.start("127.0.0.1:0", new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpServerCodec(), new SimpleChannelInboundHandler<HttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, HttpRequest req) {
                        byte[] body = "java".getBytes(StandardCharsets.UTF_8);
                        DefaultFullHttpResponse res = new DefaultFullHttpResponse(req.protocolVersion(), HttpResponseStatus.OK,
                                Unpooled.wrappedBuffer(body));
                        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                        ctx.writeAndFlush(res);
                    }
                });
            }
        }, options);
        try {
            assertTrue(server.getPort() > 0);
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort() + "/"))
                    .method("GET", BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build();
            assertEquals("java", client.send(req, BodyHandlers.ofString()).body());
            assertEquals(1, server.getConnectionCount());
        } finally {
            server.drain();
        }
        assertTrue(server.isDraining());
        assertEquals(0, server.getConnectionCount());
    }
}
