package dev.kcluster.internal.ipc

import com.code_intelligence.jazzer.api.FuzzedDataProvider
import com.code_intelligence.jazzer.junit.FuzzTest
import dev.kcluster.ProtocolException
import dev.kcluster.internal.log.LogRecord
import java.net.SocketException
import java.net.SocketTimeoutException
import java.nio.ByteBuffer
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.TestInstance
import org.newsclub.net.unix.AFUNIXServerSocketChannel
import org.newsclub.net.unix.AFUNIXSocket
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel

/**
 * Coverage-guided fuzz tests of the wire (Jazzer). The default build runs each on the empty input and on the committed corpus in
 * `src/test/resources/dev/kcluster/internal/ipc/WireFuzzTestInputs/` (regression mode); `JAZZER_FUZZ=1` fuzzes one of them (see
 * cluster-core/README.md).
 *
 * Every target accepts exactly the documented outcomes: a parsed frame or value, or a [ProtocolException]; anything else (another
 * exception, a hang, an allocation beyond the limit) fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WireFuzzTest {
    /** One real hub for the handshake target; it expects worker 1, this pid, with an all-zero key. */
    private val hubLazy = lazy { IpcHub(handshakeMillis = 2_000).also { expectWorker(it) } }
    private val hub by hubLazy
    private var worker: IpcHub.Expected? = null

    private fun expectWorker(hub: IpcHub) {
        worker = hub.expect(1, ByteArray(Handshake.KEY_BYTES)).also { it.pid.complete(ProcessHandle.current().pid()) }
    }

    /**
     * A plain listening socket for the frame reader target. Not a socket pair: junixsocket 2.11.0's `AFUNIXSocketPair` keeps both
     * descriptors after close (found by fuzzing this target: the JVM ran out of descriptors after 10,000 runs), connect/accept does not.
     */
    private val serverLazy = lazy {
        // Not a PrivateDir: watchers of older kcluster versions sweep `kcluster-*` dirs without a live ipc.sock.
        val dir = Files.createTempDirectory("wirefuzz")
        dir to AFUNIXServerSocketChannel.open().apply { bind(AFUNIXSocketAddress.of(dir.resolve("frames.sock").toFile())) }
    }

    @AfterAll
    fun close() {
        if (hubLazy.isInitialized()) hub.close()
        if (serverLazy.isInitialized())
            serverLazy.value.let { (dir, server) ->
                server.close()
                PrivateDir.delete(dir)
            }
    }

    /** Arbitrary bytes through a real AF_UNIX connection into [FrameReader], then into each frame's payload reader. */
    @FuzzTest(maxDuration = "5m")
    fun frames(data: ByteArray) {
        val (dir, server) = serverLazy.value
        AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(dir.resolve("frames.sock").toFile())).use { writer ->
            server.accept().use { ch ->
                // A small buffer and limit, so short inputs reach the large-frame and oversize paths.
                val reader = FrameReader(ch, maxFrame = 1024, name = "fuzz", bufferSize = 64)
                val bytes = data.copyOf(minOf(data.size, 64 * 1024))
                writer.write(ByteBuffer.wrap(bytes))
                writer.shutdownOutput()
                var consumed = 0
                try {
                    while (true) {
                        val frame = reader.next() ?: break
                        assertTrue(frame.payload.size <= 1024, "payload of ${frame.payload.size} bytes passed the limit")
                        consumed += HEADER_SIZE + frame.payload.size
                        parsePayload(frame)
                    }
                    assertEquals(bytes.size, consumed, "clean end of stream before every byte was framed")
                } catch (e: ProtocolException) {
                    // Documented outcome.
                } finally {
                    reader.discard()
                }
            }
        }
    }

    /** Arbitrary payloads for every payload reader. */
    @FuzzTest(maxDuration = "5m")
    fun payloads(data: ByteArray) {
        for (type in listOf(FrameType.HELLO, FrameType.MESSAGE, FrameType.LOG, FrameType.EXIT_REASON)) {
            try {
                parsePayload(Frame(type, data))
            } catch (e: ProtocolException) {
                // Documented outcome.
            }
        }
    }

    /** A HELLO arriving in arbitrary pieces: parsed, more wanted, or a ProtocolException; never a byte too many. */
    @FuzzTest(maxDuration = "5m")
    fun helloReader(data: FuzzedDataProvider) {
        val reader = HelloReader()
        try {
            while (data.remainingBytes() > 0) {
                val b = reader.buffer
                assertTrue(b.hasRemaining(), "HelloReader offered a full buffer")
                val chunk = data.consumeBytes(minOf(b.remaining(), data.consumeInt(1, 64)))
                b.put(chunk)
                assertTrue(reader.received <= HEADER_SIZE + Handshake.MAX_HELLO, "read ${reader.received} bytes for one HELLO")
                val hello = reader.advance() ?: continue
                assertTrue(hello.key.size <= 1024)
                return
            }
            reader.endOfStream().let { assertTrue(it.message!!.isNotEmpty()) }
        } catch (e: ProtocolException) {
            // Documented outcome.
        }
    }

    /**
     * Arbitrary bytes to a real [IpcHub] over its socket: it must answer with at most one REJECT frame and hang up, promptly, and keep
     * serving.
     */
    @FuzzTest(maxDuration = "5m")
    fun handshake(data: ByteArray) {
        AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(hub.socketPath.toFile())).use { s ->
            s.soTimeout = 10_000
            try {
                s.outputStream.write(data)
                s.shutdownOutput()
            } catch (e: SocketException) {
                // The hub may hang up before all of an invalid input is written.
            }
            val answer =
                try {
                    s.inputStream.readAllBytes()
                } catch (e: SocketTimeoutException) {
                    throw AssertionError("the hub neither answered nor hung up within 10 s", e)
                } catch (e: SocketException) {
                    return // reset: it hung up on bytes it did not read
                }
            if (answer.isEmpty()) return
            val frame = ByteBuffer.wrap(answer)
            assertTrue(answer.size >= HEADER_SIZE, "answer of ${answer.size} bytes is no frame")
            val length = frame.int
            val type = frame.get().toInt() and 0xff
            if (type == FrameType.WELCOME.code) {
                // Only the all-zero key of worker 1 from our own pid gets here: the key is spent, expect it anew.
                worker!!.connection.get(10, TimeUnit.SECONDS).close()
                expectWorker(hub)
                return
            }
            assertEquals(FrameType.REJECT.code, type, "answer is not REJECT")
            assertEquals(answer.size - HEADER_SIZE, length, "REJECT length does not match what was sent")
        }
    }

    private fun parsePayload(frame: Frame) {
        when (frame.type) {
            FrameType.HELLO -> Handshake.parseHello(frame.payload)
            FrameType.MESSAGE -> messageFrom(frame)
            FrameType.LOG -> LogRecord.decode(frame.payload)
            FrameType.EXIT_REASON -> PayloadReader(frame.payload, "EXIT_REASON").blob().decodeToString()
            FrameType.REJECT -> frame.payload.decodeToString()
            else -> {}
        }
    }
}
