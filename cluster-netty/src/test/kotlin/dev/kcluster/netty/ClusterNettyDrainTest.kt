package dev.kcluster.netty

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.netty.buffer.Unpooled
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInitializer
import io.netty.channel.SimpleChannelInboundHandler
import io.netty.channel.socket.SocketChannel
import io.netty.handler.codec.http.DefaultFullHttpResponse
import io.netty.handler.codec.http.HttpHeaderNames
import io.netty.handler.codec.http.HttpRequest
import io.netty.handler.codec.http.HttpResponseStatus
import io.netty.handler.codec.http.HttpServerCodec
import java.io.InputStream
import java.net.ConnectException
import java.net.Socket
import java.time.Duration
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

class ClusterNettyDrainTest :
    FunSpec({
        /** "/slow" answers after 700 ms; anything else at once. */
        class Handler : SimpleChannelInboundHandler<HttpRequest>() {
            override fun channelRead0(ctx: ChannelHandlerContext, req: HttpRequest) {
                val res = DefaultFullHttpResponse(req.protocolVersion(), HttpResponseStatus.OK, Unpooled.copiedBuffer("ok".toByteArray()))
                res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2)
                if (req.uri() == "/slow") ctx.executor().schedule({ ctx.writeAndFlush(res) }, 700, TimeUnit.MILLISECONDS)
                else ctx.writeAndFlush(res)
            }
        }

        fun Socket.request(path: String) = getOutputStream().write("GET $path HTTP/1.1\r\nHost: x\r\n\r\n".toByteArray())

        /** Reads one response's head and 2-byte body; returns the head. */
        fun InputStream.response(): String {
            val head = StringBuilder()
            while (!head.endsWith("\r\n\r\n")) {
                val b = read()
                check(b >= 0) { "connection closed without a response (got '$head')" }
                head.append(b.toChar())
            }
            repeat(2) { check(read() >= 0) }
            return head.toString().lowercase()
        }

        test("drain answers requests in flight with Connection: close, closes idle connections after the grace, stops accepting") {
            val options = ServeOptions.builder().idleGrace(Duration.ofSeconds(2)).drainTimeout(Duration.ofSeconds(10)).build()
            val server =
                ClusterNetty.start(
                    "127.0.0.1:0",
                    object : ChannelInitializer<SocketChannel>() {
                        override fun initChannel(ch: SocketChannel) {
                            ch.pipeline().addLast(HttpServerCodec(), Handler())
                        }
                    },
                    options,
                )
            val port = server.port
            val idle = Socket("127.0.0.1", port).apply { soTimeout = 20_000 }
            val slow = Socket("127.0.0.1", port).apply { soTimeout = 20_000 }
            val late = Socket("127.0.0.1", port).apply { soTimeout = 20_000 }
            try {
                idle.request("/")
                idle.getInputStream().response().contains("connection: close") shouldBe false
                late.request("/")
                late.getInputStream().response()
                slow.request("/slow")
                val t0 = System.nanoTime()
                val drainer = thread { server.drain() }
                while (!server.isDraining) Thread.onSpinWait()
                // a keep-alive client that sends within the grace gets an answer, marked close
                late.request("/")
                late.getInputStream().response().contains("connection: close") shouldBe true
                late.getInputStream().read() shouldBe -1
                // a request in flight when the drain starts is answered, marked close, then the connection ends
                slow.getInputStream().response().contains("connection: close") shouldBe true
                slow.getInputStream().read() shouldBe -1
                // an idle connection gets a clean FIN (not a reset) once the grace has passed
                idle.getInputStream().read() shouldBe -1
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) shouldBeGreaterThanOrEqual 1_900
                drainer.join(20_000)
                drainer.isAlive shouldBe false
                server.connectionCount shouldBe 0
                shouldThrow<ConnectException> { Socket("127.0.0.1", port).close() }
            } finally {
                idle.close()
                slow.close()
                late.close()
                server.drain()
            }
        }

        test("ServeOptions rejects bad values with the setting's name") {
            shouldThrow<IllegalArgumentException> { ServeOptions.builder().bossThreads(0).build() }.message shouldBe
                "bossThreads must be >= 1, was 0"
            shouldThrow<IllegalArgumentException> { ServeOptions.builder().idleGrace(Duration.ofSeconds(-1)).build() }.message shouldBe
                "idleGrace must not be negative, was PT-1S"
            ServeOptions.DEFAULT.idleGrace shouldBe Duration.ofSeconds(1)
        }
    })
