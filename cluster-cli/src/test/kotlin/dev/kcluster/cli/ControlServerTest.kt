package dev.kcluster.cli

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

class ControlServerTest :
    FunSpec({
        val dir = Files.createTempDirectory("kcl-ctl")
        afterSpec { dir.toFile().deleteRecursively() }
        val me = ProcessHandle.current().pid()

        test("a request and its answer cross the socket, which is 0600 and removed on close") {
            val pidFile = Files.writeString(dir.resolve("a.pid"), "$me\n")
            val seen = mutableListOf<ControlRequest>()
            val after = CountDownLatch(1)
            val server =
                ControlServer(PidFile.socketPathOf(pidFile)) { req ->
                    seen += req
                    Reply(ControlResponse(ok = true, replaced = req.workers)) { after.countDown() }
                }
            try {
                PosixFilePermissions.toString(Files.getPosixFilePermissions(PidFile.socketPathOf(pidFile))) shouldBe "rw-------"
                SocketControlTransport.call(pidFile, ControlRequest("scale", 3)) shouldBe ControlResponse(ok = true, replaced = 3)
                after.await(20, TimeUnit.SECONDS) shouldBe true
                seen shouldContainExactly listOf(ControlRequest("scale", 3))
            } finally {
                server.close()
            }
            Files.exists(PidFile.socketPathOf(pidFile)) shouldBe false
        }

        test("handler failures and malformed requests come back as errors") {
            val pidFile = Files.writeString(dir.resolve("b.pid"), "$me\n")
            val server = ControlServer(PidFile.socketPathOf(pidFile)) { req -> throw IllegalStateException("cannot ${req.command} now") }
            try {
                SocketControlTransport.call(pidFile, ControlRequest("reload")) shouldBe
                    ControlResponse(ok = false, error = "cannot reload now")
                val out = rawExchange(PidFile.socketPathOf(pidFile), "not json")
                out shouldContain "\"ok\":false"
                out shouldContain "bad control request"
            } finally {
                server.close()
            }
        }

        test("the client explains a missing pid file, a dead watcher and a missing socket") {
            shouldThrow<ControlException> { SocketControlTransport.call(dir.resolve("none.pid"), ControlRequest("status")) }
                .message shouldContain "does not exist"
            val dead = ProcessBuilder("true").start().also { it.waitFor() }.pid()
            val stale = Files.writeString(dir.resolve("stale.pid"), "$dead\n")
            shouldThrow<ControlException> { SocketControlTransport.call(stale, ControlRequest("status")) }.message shouldContain
                "process $dead is gone"
            val live = Files.writeString(dir.resolve("nosock.pid"), "$me\n")
            shouldThrow<ControlException> { SocketControlTransport.call(live, ControlRequest("status")) }.message shouldContain
                "no control socket"
        }

        test("a socket path too long for AF_UNIX is refused with the fix") {
            val long = dir.resolve("x".repeat(120) + ".pid")
            shouldThrow<java.io.IOException> { ControlServer(PidFile.socketPathOf(long)) { Reply(ControlResponse(ok = true)) } }
                .message shouldContain "use a shorter --pid-file path"
        }

        test("a peer with another uid is refused").config(enabled = canSwitchUser()) {
            val open = Files.createTempDirectory("kcl-ctl-open")
            try {
                Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"))
                val socket = open.resolve("c.pid.sock")
                var called = false
                val server =
                    ControlServer(socket) {
                        called = true
                        Reply(ControlResponse(ok = true))
                    }
                try {
                    // Let the other user reach the socket file, so only the peer-credential check stands in the way.
                    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"))
                    val p =
                        ProcessBuilder(
                                "setpriv",
                                "--reuid=65534",
                                "--regid=65534",
                                "--clear-groups",
                                "/usr/bin/python3",
                                "-c",
                                PY_CLIENT,
                                socket.toString(),
                                """{"command":"stop"}""",
                            )
                            .redirectErrorStream(true)
                            .start()
                    val out = p.inputStream.bufferedReader().readText()
                    p.waitFor(20, TimeUnit.SECONDS) shouldBe true
                    out shouldContain "permission denied"
                    called shouldBe false
                } finally {
                    server.close()
                }
            } finally {
                open.toFile().deleteRecursively()
            }
        }
    })

/** Sends [line] as one line to the AF_UNIX socket [socket] and returns the answer line. */
private fun rawExchange(socket: java.nio.file.Path, line: String): String =
    org.newsclub.net.unix.AFUNIXSocketChannel.open(org.newsclub.net.unix.AFUNIXSocketAddress.of(socket.toFile())).use { ch ->
        val buf = java.nio.ByteBuffer.wrap((line + "\n").toByteArray())
        while (buf.hasRemaining()) ch.write(buf)
        ControlServer.readLine(java.nio.channels.Channels.newInputStream(ch)) ?: ""
    }

/** Sends argv[2] as one line to the AF_UNIX socket argv[1] and prints the answer. */
private const val PY_CLIENT =
    """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline())
"""

private fun canSwitchUser(): Boolean =
    ControlServer.OWN_UID == 0L &&
        Files.isExecutable(java.nio.file.Path.of("/usr/bin/setpriv")) &&
        Files.isExecutable(java.nio.file.Path.of("/usr/bin/python3"))
