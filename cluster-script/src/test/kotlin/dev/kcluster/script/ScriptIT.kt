package dev.kcluster.script

import dev.kcluster.script.ScriptHarness.Companion.await
import dev.kcluster.script.ScriptHarness.Companion.freePort
import dev.kcluster.script.ScriptHarness.Companion.get
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Files
import java.nio.file.Path

/** End-to-end: `cluster FILE.cluster.kts` as real processes (CLI, compiler, worker JVMs, HTTP), one shared script cache. */
class ScriptIT :
    FunSpec({
        val h = ScriptHarness()
        afterSpec { h.cleanUp() }

        test("the hello script serves HTTP on 2 workers, each answers, and a second start reuses the compiled script") {
            val hello = h.dir.resolve("hello.cluster.kts")
            Files.copy(Path.of("..", "samples", "scripts", "hello.cluster.kts"), hello)
            val startTimes = mutableListOf<Long>()
            for (round in 1..2) {
                val port = freePort()
                val c = h.start(*h.workerJvm.toTypedArray(), "hello.cluster.kts", "$port")
                withClue({ c.toString() }) {
                    await("HTTP answers") { get(port) }
                    startTimes += (System.nanoTime() - c.startedAt) / 1_000_000
                    val seen =
                        await("both workers to answer") {
                            val ids = (1..20).mapNotNull { get(port) }.toSet()
                            ids.takeIf { it.size >= 2 }
                        }
                    seen shouldContainAll listOf("Hello from worker 1", "Hello from worker 2")
                    await("both workers' messages") {
                        c.stderr.takeIf { it.contains("worker 1: serving") && it.contains("worker 2: serving") }
                    }
                    if (round == 1) c.stderr shouldContain "hello.cluster.kts: compiled in "
                    else c.stderr shouldContain "hello.cluster.kts: compiled classes reused from the cache"
                    c.signal("TERM")
                    c.awaitExit() shouldBe 0
                }
            }
            println("hello.cluster.kts: start to first HTTP answer: cold ${startTimes[0]} ms, cached ${startTimes[1]} ms")
        }

        test("a script with a syntax error exits 1 and prints only the compiler's file:line:column messages") {
            h.script("broken.cluster.kts", "workers(2)\nworker {\n    val x =\n}\n")
            val c = h.start("broken.cluster.kts")
            withClue({ c.toString() }) {
                c.awaitExit() shouldBe 1
                c.stdout shouldBe ""
                val lines = c.stderrLines
                lines.first() shouldBe "broken.cluster.kts:3:12: error: Expecting an expression"
                lines.forEach { it shouldStartWith "broken.cluster.kts:" }
            }
        }

        test("a script that misuses the DSL exits 1 with the DSL's own message") {
            h.script("zero.cluster.kts", "workers(0)\nworker { awaitTermination() }\n")
            val c = h.start("zero.cluster.kts")
            withClue({ c.toString() }) {
                c.awaitExit() shouldBe 1
                c.stderrLines.last() shouldBe
                    "cluster: zero.cluster.kts: workers(0): a cluster needs at least one worker; use workers(1) or more"
            }
        }

        test("--watch: a broken edit keeps the workers serving, a fixed edit rolls them onto the new code") {
            val port = freePort()
            fun version(v: String) =
                """
            workers(2)
            worker {
                val server = ClusterNetty.start("127.0.0.1:$port", object : io.netty.channel.ChannelInitializer<io.netty.channel.socket.SocketChannel>() {
                    override fun initChannel(ch: io.netty.channel.socket.SocketChannel) {
                        ch.pipeline().addLast(io.netty.handler.codec.http.HttpServerCodec(), object : io.netty.channel.ChannelInboundHandlerAdapter() {
                            override fun channelRead(ctx: io.netty.channel.ChannelHandlerContext, msg: Any) {
                                if (msg is io.netty.handler.codec.http.LastHttpContent) {
                                    val body = io.netty.buffer.Unpooled.copiedBuffer("$v", Charsets.UTF_8)
                                    val res = io.netty.handler.codec.http.DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_0, io.netty.handler.codec.http.HttpResponseStatus.OK, body)
                                    ctx.writeAndFlush(res).addListener(io.netty.channel.ChannelFutureListener.CLOSE)
                                }
                                io.netty.util.ReferenceCountUtil.release(msg)
                            }
                        })
                    }
                })
                awaitTermination()
                server.drain()
            }
        """
                    .trimIndent()
            val script = h.script("watch.cluster.kts", version("v1"))
            val c = h.start(*h.workerJvm.toTypedArray(), "--watch", "watch.cluster.kts", "watch.cluster.kts")
            withClue({ c.toString() }) {
                await("v1 answers") { get(port)?.takeIf { it == "v1" } }
                await("the file watch") { c.stderr.takeIf { it.contains("watching ") } }

                Files.writeString(script, version("v2").replace("awaitTermination()", "awaitTermination(\n"))
                val error =
                    await("the compile error in the log") {
                        c.stderrLines.firstOrNull { Regex("watch\\.cluster\\.kts:\\d+:\\d+: error: ").containsMatchIn(it) }
                    }
                error shouldContain "ERROR"
                c.stderr shouldContain "watch.cluster.kts does not compile; the workers keep running the previous version"
                (1..5).map { get(port) }.toSet() shouldBe setOf("v1")

                Files.writeString(script, version("v3"))
                await("the rolling restart") {
                    c.stderr.takeIf { it.contains("rolling restart done: 2 worker(s) run the new watch.cluster.kts") }
                }
                (1..5).map { get(port) }.toSet() shouldBe setOf("v3")
                c.signal("TERM")
                c.awaitExit() shouldBe 0
            }
        }

        test("@file:DependsOn loads a library from the local Maven repository or Maven Central") {
            h.script(
                "deps.cluster.kts",
                """
                @file:DependsOn("org.apache.commons:commons-lang3:3.17.0")
                import org.apache.commons.lang3.StringUtils
                workers(1)
                onMessage<String> { msg -> log.info("from the worker: {}", msg.data) }
                worker {
                    ready()
                    send(StringUtils.reverse("olleh") + " via " + StringUtils::class.java.protectionDomain.codeSource.location.path.substringAfterLast('/'))
                    awaitTermination()
                }
                """
                    .trimIndent(),
            )
            val c = h.start(*h.workerJvm.toTypedArray(), "deps.cluster.kts")
            withClue({ c.toString() }) {
                await("the worker's message") { c.stderr.takeIf { it.contains("from the worker: hello via commons-lang3-3.17.0.jar") } }
                c.signal("TERM")
                c.awaitExit() shouldBe 0
            }
        }
    })
