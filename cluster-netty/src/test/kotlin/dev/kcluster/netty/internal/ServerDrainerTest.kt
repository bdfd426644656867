package dev.kcluster.netty.internal

import dev.kcluster.netty.ClusterNetty
import dev.kcluster.netty.ServeOptions
import dev.kcluster.testing.awaitUntil
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.netty.buffer.Unpooled
import io.netty.channel.Channel
import io.netty.channel.ChannelFutureListener
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInitializer
import io.netty.channel.SimpleChannelInboundHandler
import io.netty.channel.socket.SocketChannel
import io.netty.handler.codec.http.DefaultFullHttpResponse
import io.netty.handler.codec.http.HttpHeaderNames
import io.netty.handler.codec.http.HttpRequest
import io.netty.handler.codec.http.HttpResponseStatus
import io.netty.handler.codec.http.HttpServerCodec
import java.net.Socket
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread

class ServerDrainerTest :
    FunSpec({
        test("the drain's copy of the connections tolerates one closing between the set's size and its iterator") {
            // What a DefaultChannelGroup looks like when its one connection closes right after size() was read.
            val stale =
                object : AbstractSet<Channel>() {
                    override val size = 1

                    override fun iterator(): Iterator<Channel> = emptyList<Channel>().iterator()
                }
            shouldThrow<NoSuchElementException> { stale.toList() } // why the drain does not use toList()
            snapshot(stale).shouldBeEmpty()
        }

        test("a drain under a serial client (one connection at a time, closed after its answer) finishes with no connection left") {
            val server =
                ClusterNetty.start(
                    "127.0.0.1:0",
                    object : ChannelInitializer<SocketChannel>() {
                        override fun initChannel(ch: SocketChannel) {
                            ch.pipeline()
                                .addLast(
                                    HttpServerCodec(),
                                    object : SimpleChannelInboundHandler<HttpRequest>() {
                                        override fun channelRead0(ctx: ChannelHandlerContext, req: HttpRequest) {
                                            val body = Unpooled.copiedBuffer("ok".toByteArray())
                                            val res = DefaultFullHttpResponse(req.protocolVersion(), HttpResponseStatus.OK, body)
                                            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2)
                                            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE)
                                        }
                                    },
                                )
                        }
                    },
                    ServeOptions.builder().idleGrace(Duration.ofMillis(200)).drainTimeout(Duration.ofSeconds(10)).build(),
                )
            val answered = AtomicInteger()
            val stop = AtomicBoolean()
            val client = thread {
                while (!stop.get()) {
                    runCatching {
                        Socket("127.0.0.1", server.port).use { s ->
                            s.soTimeout = 5_000
                            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".toByteArray())
                            if (s.getInputStream().readAllBytes().isNotEmpty()) answered.incrementAndGet()
                        }
                    }
                }
            }
            try {
                awaitUntil("200 answers", 20_000) { answered.get() >= 200 }
                val failure = AtomicReference<Throwable>()
                val drainer = thread { runCatching { server.drain() }.onFailure(failure::set) }
                drainer.join(20_000)
                drainer.isAlive shouldBe false
                failure.get() shouldBe null
                server.connectionCount shouldBe 0
            } finally {
                stop.set(true)
                client.join(10_000)
            }
        }
    })
