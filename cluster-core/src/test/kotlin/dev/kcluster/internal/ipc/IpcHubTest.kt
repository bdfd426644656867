package dev.kcluster.internal.ipc

import dev.kcluster.ProtocolException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions
import kotlinx.coroutines.future.await
import kotlinx.coroutines.withTimeout
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel

class IpcHubTest :
    FunSpec({
        val me = ProcessHandle.current().pid()

        fun IpcHub.expectMe(id: Int): Pair<ByteArray, IpcHub.Expected> {
            val key = Handshake.newKey()
            return key to expect(id, key).also { it.pid.complete(me) }
        }

        fun rawClient(hub: IpcHub) = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(hub.socketPath.toFile()))

        test("the IPC directory is private (0700) and removed on close") {
            val hub = IpcHub()
            PosixFilePermissions.toString(Files.getPosixFilePermissions(hub.dir)) shouldBe "rwx------"
            Files.exists(hub.socketPath) shouldBe true
            hub.close()
            Files.exists(hub.dir) shouldBe false
        }

        test("a worker with the right key is welcomed") {
            IpcHub().use { hub ->
                val (key, exp) = hub.expectMe(1)
                val conn = IpcHub.connect(hub.socketPath, 1, key)
                withTimeout(10_000) { exp.connection.await() }.name shouldBe "worker-1"
                conn.close()
            }
        }

        test("wrong key, garbage and silence are rejected and the hub keeps serving good workers") {
            IpcHub(handshakeMillis = 2_000).use { hub ->
                val (key, exp) = hub.expectMe(7)
                // A silent peer holds a connection open without a word: it must not delay anyone.
                val silent = rawClient(hub)
                // Wrong key for an expected worker.
                val wrong = shouldThrow<ProtocolException> { IpcHub.connect(hub.socketPath, 7, Handshake.newKey()) }
                wrong.message shouldContain "wrong key for worker 7"
                // Garbage instead of a HELLO.
                rawClient(hub).use { g ->
                    g.write(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".toByteArray()))
                    val buf = ByteBuffer.allocate(256)
                    var n = 0
                    while (true) {
                        val r = g.read(buf)
                        if (r < 0) break
                        n += r
                    }
                    buf.flip()
                    // REJECT frame with a reason, then the hub hangs up.
                    (buf.get(4).toInt() and 0xff) shouldBe FrameType.REJECT.code
                    String(buf.array(), 5, n - 5) shouldContain "frame"
                }
                // The good worker still gets in, while the silent one is pending.
                val conn = IpcHub.connect(hub.socketPath, 7, key)
                withTimeout(10_000) { exp.connection.await() }.isOpen shouldBe true
                // The key was one-time: a replay is refused.
                shouldThrow<ProtocolException> { IpcHub.connect(hub.socketPath, 7, key) }.message shouldContain "wrong key"
                // The silent peer is cut off at the deadline.
                val buf = ByteBuffer.allocate(64)
                var r = 0
                withTimeout(10_000) { while (r >= 0) r = silent.read(buf.clear()) }
                conn.close()
            }
        }

        test("a peer whose pid is not the spawned worker's is refused") {
            IpcHub().use { hub ->
                val key = Handshake.newKey()
                hub.expect(3, key).pid.complete(me + 100_000)
                shouldThrow<ProtocolException> { IpcHub.connect(hub.socketPath, 3, key) }.message shouldContain "is not worker 3's pid"
            }
        }
    })

class PrivateDirSweepTest :
    FunSpec({
        test("directories of dead watchers are swept, live and fresh ones are kept") {
            val base = Files.createTempDirectory("sweep")
            fun age(dir: java.nio.file.Path, millis: Long) =
                Files.setLastModifiedTime(dir, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - millis))
            val dead = Files.createDirectory(base.resolve("kcluster-dead")).also { Files.createFile(it.resolve("ipc.sock")) }
            val empty = Files.createDirectory(base.resolve("kcluster-empty"))
            val fresh = Files.createDirectory(base.resolve("kcluster-fresh"))
            val live = Files.createDirectory(base.resolve("kcluster-live"))
            val server =
                org.newsclub.net.unix.AFUNIXServerSocketChannel.open().apply {
                    bind(AFUNIXSocketAddress.of(live.resolve("ipc.sock").toFile()))
                }
            val other = Files.createDirectory(base.resolve("unrelated"))
            listOf(dead, empty, live, other).forEach { age(it, 120_000) }
            PrivateDir.sweepStale(base)
            Files.exists(dead) shouldBe false
            Files.exists(empty) shouldBe false
            Files.exists(fresh) shouldBe true
            Files.exists(live) shouldBe true
            Files.exists(other) shouldBe true
            server.close()
            PrivateDir.delete(base)
        }
    })
