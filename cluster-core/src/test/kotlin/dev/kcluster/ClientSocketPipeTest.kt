package dev.kcluster

import dev.kcluster.internal.ipc.PrivateDir
import dev.kcluster.testing.PipeChild
import dev.kcluster.testing.fdCount
import dev.kcluster.testing.startJvm
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.io.IOException
import java.net.InetSocketAddress
import java.net.StandardProtocolFamily
import java.net.UnixDomainSocketAddress
import java.nio.ByteBuffer
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.security.MessageDigest
import java.util.concurrent.TimeUnit
import kotlin.random.Random

class ClientSocketPipeTest :
    FunSpec({
        /**
         * Starts a [PipeChild] in [mode] and returns it with the parent's end of its AF_UNIX channel. Both ends are plain JDK Unix-domain
         * channels: no junixsocket type is needed to use a pipe.
         */
        fun child(vararg mode: String): Pair<Process, SocketChannel> {
            val dir = PrivateDir.create()
            val path = dir.resolve("pipe.sock")
            val server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path))
            val process = startJvm(PipeChild::class.java, mode[0], path.toString(), *mode.drop(1).toTypedArray())
            val ch = server.accept()
            server.close()
            PrivateDir.delete(dir)
            return process to ch
        }

        val tcp = ServerSocketChannel.open().bind(InetSocketAddress("127.0.0.1", 0))
        afterSpec { tcp.close() }

        fun connectedPair(): Pair<SocketChannel, SocketChannel> {
            val client = SocketChannel.open(tcp.localAddress)
            return client to tcp.accept()
        }

        test("a client accepted in the parent is served by the child, with 1 MiB of attached data") {
            val (process, ch) = child("serve")
            val pipe = ClientSocketSendPipe(ch)
            try {
                val data = Random.nextBytes(1024 * 1024)
                val sha = MessageDigest.getInstance("SHA-256").digest(data).joinToString("") { "%02x".format(it) }
                val (client, accepted) = connectedPair()
                pipe.send(accepted, Message.ofBytes(data))
                accepted.isOpen shouldBe false
                client.write(ByteBuffer.wrap("hello\n".toByteArray()))
                val line = client.socket().getInputStream().bufferedReader().readLine()
                line shouldStartWith "child "
                line.substringAfter("child ").substringBefore(' ').toLong() shouldNotBe ProcessHandle.current().pid()
                line.substringAfter(" got ") shouldBe "'hello' with 1048576 bytes sha256=$sha"
                client.close()
            } finally {
                pipe.close()
                process.waitFor(10, TimeUnit.SECONDS) shouldBe true
            }
        }

        test("a failed send leaves the socket with the caller") {
            val (process, ch) = child("serve")
            val pipe = ClientSocketSendPipe(ch)
            pipe.close()
            val (client, accepted) = connectedPair()
            shouldThrow<IOException> { pipe.send(accepted, Message.ofString("x")) }
            accepted.isOpen shouldBe true
            accepted.write(ByteBuffer.wrap("still mine\n".toByteArray()))
            client.socket().getInputStream().bufferedReader().readLine() shouldBe "still mine"
            accepted.close()
            client.close()
            process.waitFor(10, TimeUnit.SECONDS) shouldBe true
        }

        test("a pipe refuses a channel that is not a connected Unix-domain socket") {
            val (client, accepted) = connectedPair()
            shouldThrow<IllegalArgumentException> { ClientSocketSendPipe(client) }.message shouldContain "Unix-domain"
            client.isOpen shouldBe true
            client.close()
            accepted.close()
        }

        test("10,000 transfers leave the descriptor count of both processes flat") {
            val n = 10_000
            val (process, ch) = child("count", n.toString())
            val pipe = ClientSocketSendPipe(ch)
            val out = process.inputStream.bufferedReader()
            val childBefore = out.readLine().removePrefix("FD_BEFORE ").toInt()
            // Warm up so lazily opened JDK descriptors are counted before the baseline.
            val parentBefore = fdCount()
            repeat(n) { i ->
                val (client, accepted) = connectedPair()
                pipe.send(accepted, if (i % 100 == 0) Message.ofString("client $i") else null)
                client.close()
            }
            val childAfter = out.readLine().removePrefix("FD_AFTER ").toInt()
            val parentAfter = fdCount()
            println("NUMBER fd counts: parent $parentBefore -> $parentAfter, child $childBefore -> $childAfter over $n transfers")
            (childAfter - childBefore) shouldBeLessThanOrEqual 8
            (parentAfter - parentBefore) shouldBeLessThanOrEqual 8
            pipe.close()
            process.waitFor(10, TimeUnit.SECONDS) shouldBe true
        }
    })
