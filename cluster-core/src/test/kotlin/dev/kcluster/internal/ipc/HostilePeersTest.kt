package dev.kcluster.internal.ipc

import dev.kcluster.WorkerState
import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.fdCount
import dev.kcluster.testing.ipcDirOf
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import java.io.Closeable
import java.net.SocketTimeoutException
import java.nio.ByteBuffer
import java.nio.file.Path
import java.util.ArrayDeque
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import org.newsclub.net.unix.AFUNIXSocket
import org.newsclub.net.unix.AFUNIXSocketAddress

/**
 * Same-uid peers that connect to `ipc.sock` and misbehave in every way the handshake must survive: garbage, an oversized length, truncated
 * frames (closed or left hanging), a wrong key, silence. Each thread keeps at most [holdPerThread] silent or hanging sockets open, closing
 * the oldest.
 */
private class Attack(private val socket: Path, threads: Int, private val holdPerThread: Int) : Closeable {
    val connections = AtomicInteger()
    val held = AtomicInteger()
    val failure = AtomicReference<Throwable>()
    @Volatile private var running = true
    private val holds = List(threads) { ArrayDeque<AFUNIXSocket>() }
    private val workers = List(threads) { t -> Thread({ run(holds[t]) }, "attacker-$t").apply { isDaemon = true } }

    fun start() = apply { workers.forEach(Thread::start) }

    private fun run(hold: ArrayDeque<AFUNIXSocket>) {
        var i = 0
        try {
            while (running) {
                val s = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket.toFile()))
                s.soTimeout = 20_000
                connections.incrementAndGet()
                val out = s.outputStream
                val kind = i++ % 6
                when (kind) {
                    0 -> out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".toByteArray())
                    1 -> out.write(ByteBuffer.allocate(5).putInt(Int.MAX_VALUE).put(FrameType.HELLO.code.toByte()).array())
                    2 -> {
                        out.write(ByteBuffer.allocate(15).putInt(100).put(FrameType.HELLO.code.toByte()).array())
                        s.shutdownOutput()
                    }
                    3 -> out.write(frame(FrameType.HELLO, Handshake.hello(1, Handshake.newKey())))
                    4 -> {}
                    5 -> out.write(ByteBuffer.allocate(8).putInt(40).put(FrameType.HELLO.code.toByte()).array())
                }
                if (kind >= 4) {
                    // Silent or hanging: the watcher may drop them at any time.
                    hold.addLast(s)
                    held.incrementAndGet()
                    if (hold.size > holdPerThread) {
                        hold.pollFirst().close()
                        held.decrementAndGet()
                    }
                } else {
                    // The watcher must answer (REJECT) and hang up at once.
                    try {
                        s.inputStream.readAllBytes()
                    } catch (e: SocketTimeoutException) {
                        throw AssertionError("the watcher neither rejected nor closed a hostile connection within 20 s", e)
                    } catch (e: java.net.SocketException) {
                        // Reset: the watcher hung up on bytes it did not read (it reads no more than a HELLO needs).
                    }
                    s.close()
                }
            }
        } catch (e: Throwable) {
            if (running) failure.compareAndSet(null, e)
        }
    }

    private fun frame(type: FrameType, payload: ByteArray) =
        ByteBuffer.allocate(HEADER_SIZE + payload.size).putInt(payload.size).put(type.code.toByte()).put(payload).array()

    /** Stops opening connections; held ones stay open until [close]. */
    fun stop() {
        running = false
        workers.forEach { it.join(30_000) }
    }

    override fun close() {
        stop()
        holds.forEach { h ->
            h.forEach { runCatching { it.close() } }
            h.clear()
        }
        held.set(0)
    }
}

class HostilePeersTest :
    FunSpec({
        test("thousands of hostile IPC connections hold no watcher resources and do not delay a starting worker") {
            withWatcher(testConfig(EchoWorker::class.java), 1) { w ->
                val socket = ipcDirOf(w.workers.single().pid).resolve("ipc.sock")
                val fdsBefore = fdCount()
                val threadsBefore = Thread.activeCount()
                Attack(socket, threads = 3, holdPerThread = 200).use { attack ->
                    attack.start()
                    awaitUntil("the attack under way", 30_000) { attack.connections.get() >= 1_000 || attack.failure.get() != null }
                    val t0 = System.nanoTime()
                    w.scale(2)
                    awaitUntil("a second worker READY during the attack", w.config.startTimeout.toMillis()) {
                        w.workers.size == 2 && w.workers.all { it.state == WorkerState.READY }
                    }
                    val readyMs = (System.nanoTime() - t0) / 1_000_000
                    // Keep attacking for a while after READY too, so it spans thousands of connections.
                    awaitUntil("3,000 hostile connections", 60_000) { attack.connections.get() >= 3_000 || attack.failure.get() != null }
                    val threadsDuring = Thread.activeCount()
                    attack.stop()
                    attack.failure.get()?.let { throw it }
                    println(
                        "NUMBER worker READY during the attack: $readyMs ms; ${attack.connections.get()} hostile connections; " +
                            "threads ${threadsBefore} -> $threadsDuring"
                    )
                    // A thread per peer (the old handshake pool) would show here; the new worker adds a few.
                    threadsDuring shouldBeLessThan threadsBefore + 20
                    // The attacker holds its silent sockets open; the watcher keeps at most DEFAULT_MAX_PENDING of them.
                    val extra = fdCount() - fdsBefore - attack.held.get()
                    println("NUMBER watcher-side descriptors for ${attack.held.get()} held hostile sockets: $extra")
                    attack.held.get() shouldBeGreaterThan IpcHub.DEFAULT_MAX_PENDING
                    extra shouldBeLessThan IpcHub.DEFAULT_MAX_PENDING + 64
                }
                // The hub still serves: a restart brings in new workers.
                w.restart().rolledBack shouldBe false
                w.workers.map { it.state }.toSet() shouldBe setOf(WorkerState.READY)
            }
        }
    })

class HelloReaderTest :
    FunSpec({
        fun feed(reader: HelloReader, bytes: ByteArray): Handshake.Hello? {
            var off = 0
            var hello: Handshake.Hello? = null
            while (off < bytes.size && hello == null) {
                val b = reader.buffer
                val n = minOf(b.remaining(), bytes.size - off, 3) // a few bytes at a time
                b.put(bytes, off, n)
                off += n
                hello = reader.advance()
            }
            return hello
        }

        test("a HELLO arriving a few bytes at a time is parsed, and nothing past it is read") {
            val key = Handshake.newKey()
            val payload = Handshake.hello(9, key)
            val frame =
                ByteBuffer.allocate(HEADER_SIZE + payload.size + 4)
                    .putInt(payload.size)
                    .put(FrameType.HELLO.code.toByte())
                    .put(payload)
                    .putInt(42)
                    .array()
            val r = HelloReader()
            val hello = feed(r, frame)!!
            hello.workerId shouldBe 9
            hello.key.toList() shouldBe key.toList()
            r.received shouldBe HEADER_SIZE + payload.size
        }

        test("oversized, foreign and truncated frames are protocol errors") {
            val big = ByteBuffer.allocate(5).putInt(Handshake.MAX_HELLO + 1).put(1).array()
            io.kotest.assertions.throwables.shouldThrow<dev.kcluster.ProtocolException> { feed(HelloReader(), big) }.message shouldBe
                "frame of 4097 bytes exceeds the handshake limit of 4096 bytes"
            val ping = ByteBuffer.allocate(5).putInt(0).put(FrameType.PING.code.toByte()).array()
            io.kotest.assertions.throwables.shouldThrow<dev.kcluster.ProtocolException> { feed(HelloReader(), ping) }.message shouldBe
                "expected HELLO, got PING"
            val r = HelloReader()
            feed(r, ByteBuffer.allocate(7).putInt(10).put(1).put(0).put(1).array()) shouldBe null
            r.endOfStream().message shouldBe "connection closed mid-frame (2 of 10 payload bytes received)"
            HelloReader().endOfStream().message shouldBe "peer closed the connection before HELLO"
        }
    })

class RateLimitedLogTest :
    FunSpec({
        test("a flood is logged as a few lines and one summary per window") {
            var now = 0L
            val lines = mutableListOf<String>()
            val log = RateLimitedLog("rejected", burst = 3, windowMillis = 10_000, clock = { now }) { lines += it }
            repeat(10_000) { log.warn("peer $it") }
            lines shouldBe
                listOf("rejected: peer 0", "rejected: peer 1", "rejected: peer 2", "rejected: more than 3 in 10 s; counting the rest")
            log.owesSummary shouldBe true
            now = 9_999
            log.tick()
            lines.size shouldBe 4
            now = 10_000
            log.tick()
            lines.last() shouldBe "rejected: 9997 more in the last 10 s (last: peer 9999)"
            log.owesSummary shouldBe false
            log.warn("later")
            lines.last() shouldBe "rejected: later"
        }
    })
