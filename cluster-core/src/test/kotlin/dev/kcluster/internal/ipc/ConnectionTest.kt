package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.file.Files
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withTimeout
import org.newsclub.net.unix.AFUNIXSocketChannel
import org.newsclub.net.unix.AFUNIXSocketPair

class ConnectionTest :
    FunSpec({
        fun pair(maxFrame: Int = DEFAULT_MAX_FRAME): Pair<Connection, Connection> {
            val p = AFUNIXSocketPair.open()
            return Connection(p.socket1, "a", maxFrame) to Connection(p.socket2, "b", maxFrame)
        }

        /** Writes raw bytes on [ch], bypassing the framing. */
        fun raw(ch: AFUNIXSocketChannel, vararg bytes: ByteBuffer) = bytes.forEach { b -> while (b.hasRemaining()) ch.write(b) }

        fun header(length: Long, type: Int): ByteBuffer = ByteBuffer.allocate(5).putInt(length.toInt()).put(type.toByte()).flip()

        test("an oversized frame fails that connection with a clear error") {
            val (a, b) = pair(maxFrame = 64 * 1024)
            b.on(FrameType.MESSAGE) {}
            b.start()
            raw(a.channel, header(100L * 1024 * 1024, FrameType.MESSAGE.code))
            val error = withTimeout(10_000) { b.closed.await() }
            error.shouldBeInstanceOf<ProtocolException>()
            error.message shouldContain "frame of 104857600 bytes exceeds the limit of 65536 bytes"
            a.close()
        }

        test("an unknown frame type fails that connection with a clear error") {
            val (a, b) = pair()
            b.start()
            raw(a.channel, header(3, 0x7f), ByteBuffer.wrap(byteArrayOf(1, 2, 3)))
            val error = withTimeout(10_000) { b.closed.await() }
            error!!.message shouldContain "unknown frame type 0x7f"
            a.close()
        }

        test("a truncated frame fails that connection with a clear error") {
            val (a, b) = pair()
            b.on(FrameType.MESSAGE) {}
            b.start()
            raw(a.channel, header(1000, FrameType.MESSAGE.code), ByteBuffer.wrap(ByteArray(10)))
            a.channel.close()
            val error = withTimeout(10_000) { b.closed.await() }
            error!!.message shouldContain "connection closed mid-frame (10 of 1000 payload bytes received)"
        }

        test("a message payload has the layout the reader expects") {
            val m = dev.kcluster.Message.ofString("héllo")
            m.toPayload().contentEquals(PayloadWriter().message(m).toByteArray()) shouldBe true
            val back = PayloadReader(m.toPayload(), "MESSAGE").message()
            back.type shouldBe "kotlin.String"
            back.asString() shouldBe "héllo"
        }

        test("a malformed payload is a protocol error, not a crash") {
            val e = shouldThrow<ProtocolException> { PayloadReader(byteArrayOf(0, 9, 65), "LISTEN").str() }
            e.message shouldContain "malformed LISTEN frame"
        }

        test("a payload over the limit is refused before sending and the connection stays usable") {
            val (a, b) = pair(maxFrame = 64 * 1024)
            val got = ConcurrentLinkedQueue<Int>()
            b.on(FrameType.MESSAGE) { got.add(it.payload.size) }
            b.start()
            val e = shouldThrow<ProtocolException> { a.send(FrameType.MESSAGE, ByteArray(64 * 1024 + 1)) }
            e.message shouldContain "exceeds the limit"
            a.send(FrameType.MESSAGE, ByteArray(64 * 1024))
            withTimeout(10_000) { while (got.isEmpty()) kotlinx.coroutines.delay(5) }
            got.toList() shouldContainExactly listOf(64 * 1024)
            a.isOpen shouldBe true
            a.close()
            b.close()
        }

        test("after a BYE exchange the worker's reader thread ends, the watcher writes nothing more, and the worker still sends") {
            val (watcher, worker) = pair()
            val got = ConcurrentLinkedQueue<Int>()
            watcher.on(FrameType.MESSAGE) { got.add(it.payload.size) }
            watcher.on(FrameType.BYE) { watcher.sendLast(FrameType.BYE) }
            watcher.start()
            worker.on(FrameType.BYE) { worker.endReading() }
            worker.start()
            worker.reading shouldBe true
            worker.send(FrameType.BYE) // what a stopped worker's shutdown hook does
            worker.awaitReadingEnd(10_000)
            worker.reading shouldBe false
            // The watcher's later writes fail at once, without touching the socket, and its side stays open for reading.
            shouldThrow<java.io.IOException> { watcher.send(FrameType.PING) }.message shouldContain "takes no more frames"
            watcher.isOpen shouldBe true
            worker.isOpen shouldBe true
            // The worker's last frames (the logs of the program's own shutdown hooks) still arrive, in order.
            worker.send(FrameType.MESSAGE, ByteArray(3))
            worker.send(FrameType.MESSAGE, ByteArray(5))
            withTimeout(10_000) { while (got.size < 2) kotlinx.coroutines.delay(5) }
            got.toList() shouldContainExactly listOf(3, 5)
            worker.close()
            withTimeout(10_000) { watcher.closed.await() }
            watcher.isOpen shouldBe false
        }

        test("concurrent senders never interleave frames") {
            val (a, b) = pair()
            val threads = 8
            val perThread = 5_000
            val received = Array(threads) { mutableListOf<Int>() }
            val done = CountDownLatch(threads * perThread)
            b.on(FrameType.MESSAGE) { f ->
                val buf = ByteBuffer.wrap(f.payload)
                val t = buf.int
                val n = buf.int
                // Payload length varies with n; every byte after the header must be t.
                check(f.payload.size == 8 + n % 300) { "bad length" }
                while (buf.hasRemaining()) check(buf.get() == t.toByte()) { "interleaved bytes" }
                synchronized(received) { received[t].add(n) }
                done.countDown()
            }
            b.start()
            (0 until threads)
                .map { t ->
                    thread {
                        repeat(perThread) { n ->
                            val p = ByteBuffer.allocate(8 + n % 300).putInt(t).putInt(n)
                            while (p.hasRemaining()) p.put(t.toByte())
                            a.send(FrameType.MESSAGE, p.array())
                        }
                    }
                }
                .forEach { it.join() }
            done.await(30, TimeUnit.SECONDS) shouldBe true
            received.forEach { it shouldBe (0 until perThread).toList() }
            b.isOpen shouldBe true
            a.close()
            b.close()
        }

        test("descriptors are attributed to the frames that carried them, among large and small frames") {
            val (a, b) = pair()
            val files = List(20) { i -> Files.createTempFile("kcluster-fd", ".txt").also { Files.writeString(it, "file $i") } }
            val seen = ConcurrentLinkedQueue<String>()
            val done = CountDownLatch(files.size)
            b.on(FrameType.MESSAGE) {}
            b.on(FrameType.CLIENT_SOCKET) { f ->
                val text = FileInputStream(f.fd!!).use { it.readAllBytes().decodeToString() }
                seen.add(f.payload.decodeToString().substringBefore('|') + "=" + text)
                done.countDown()
            }
            b.start()
            files.forEachIndexed { i, path ->
                a.send(FrameType.MESSAGE, ByteArray(if (i % 3 == 0) 200_000 else 10))
                FileInputStream(path.toFile()).use { input ->
                    a.send(FrameType.CLIENT_SOCKET, ("$i|" + "x".repeat(if (i % 2 == 0) 100_000 else 1)).toByteArray(), input.fd)
                }
            }
            done.await(30, TimeUnit.SECONDS) shouldBe true
            seen.toList() shouldContainExactly files.indices.map { "$it=file $it" }
            files.forEach(Files::delete)
            a.close()
            b.close()
        }

        test("a batch of frames with one descriptor each, sent in one write, gives each frame its own descriptor") {
            val (a, b) = pair()
            val n = Connection.MAX_FDS_PER_WRITE
            val files = List(3 * n + 1) { i -> Files.createTempFile("kcluster-fd", ".txt").also { Files.writeString(it, "file $i") } }
            val seen = ConcurrentLinkedQueue<String>()
            val done = CountDownLatch(files.size)
            b.on(FrameType.ACCEPTED) { f ->
                val text = FileInputStream(f.fd!!).use { it.readAllBytes().decodeToString() }
                seen.add(f.payload.decodeToString() + "=" + text)
                done.countDown()
            }
            b.start()
            // batches of n, n, n and 1, the last through the one-frame path, as the balancer sends them
            val inputs = files.map { FileInputStream(it.toFile()) }
            for (start in files.indices step n) {
                val count = minOf(n, files.size - start)
                val payloads = arrayOfNulls<ByteArray>(n)
                val fds = arrayOfNulls<java.io.FileDescriptor>(n)
                for (k in 0 until count) {
                    payloads[k] = "${start + k}".toByteArray()
                    fds[k] = inputs[start + k].fd
                }
                if (count == 1) a.send(FrameType.ACCEPTED, payloads[0]!!, fds[0])
                else a.sendWithFds(FrameType.ACCEPTED, payloads, fds, count)
            }
            inputs.forEach { it.close() }
            done.await(30, TimeUnit.SECONDS) shouldBe true
            seen.toList() shouldContainExactly files.indices.map { "$it=file $it" }
            shouldThrow<IllegalArgumentException> { a.sendWithFds(FrameType.ACCEPTED, arrayOfNulls(n + 1), arrayOfNulls(n + 1), n + 1) }
            files.forEach(Files::delete)
            a.close()
            b.close()
        }
    })
