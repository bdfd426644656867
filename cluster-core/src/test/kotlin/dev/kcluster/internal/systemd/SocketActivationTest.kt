package dev.kcluster.internal.systemd

import ch.qos.logback.classic.Logger
import ch.qos.logback.classic.spi.ILoggingEvent
import ch.qos.logback.core.read.ListAppender
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import java.net.InetSocketAddress
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.nio.file.Files
import java.nio.file.Path
import org.slf4j.LoggerFactory

private fun capture(name: String): Pair<org.slf4j.Logger, ListAppender<ILoggingEvent>> {
    val logger = LoggerFactory.getLogger(name) as Logger
    val appender = ListAppender<ILoggingEvent>().apply { start() }
    logger.addAppender(appender)
    return logger to appender
}

/** The descriptor number of [server] in this process, found through /proc like socket activation does. */
private fun fdOf(server: ServerSocketChannel): Int {
    val port = (server.localAddress as InetSocketAddress).port
    val hexPort = "%04X".format(port)
    val inode =
        Files.readAllLines(Path.of("/proc/net/tcp"))
            .drop(1)
            .map { it.trim().split(Regex("\\s+")) }
            .first { it[1].endsWith(":$hexPort") && it[3] == "0A" }[9]
    return Files.list(Path.of("/proc/self/fd"))
        .use { s ->
            s.filter { runCatching { Files.readSymbolicLink(it).toString() == "socket:[$inode]" }.getOrDefault(false) }.findFirst().get()
        }
        .fileName
        .toString()
        .toInt()
}

class SocketActivationTest :
    FunSpec({
        val me = ProcessHandle.current().pid()

        test("LISTEN_PID of another process: one clear line and nothing adopted") {
            val (log, lines) = capture("test.activation.pid")
            SocketActivation.adopt(log, mapOf("LISTEN_PID" to "1", "LISTEN_FDS" to "1"), me).shouldBeEmpty()
            lines.list.map { it.formattedMessage } shouldBe listOf("socket activation skipped: LISTEN_PID=1 is not this process (pid $me)")
        }

        test("LISTEN_FDS naming closed descriptors: one line each, nothing adopted") {
            val (log, lines) = capture("test.activation.closed")
            SocketActivation.adopt(
                    log,
                    mapOf("LISTEN_PID" to "$me", "LISTEN_FDS" to "2", "LISTEN_FDNAMES" to "http:admin"),
                    me,
                    firstFd = 900,
                )
                .shouldBeEmpty()
            lines.list.map { it.formattedMessage } shouldBe
                listOf(
                    "socket activation: fd 900 (http) is not an open listening TCP socket; ignored",
                    "socket activation: fd 901 (admin) is not an open listening TCP socket; ignored",
                )
        }

        test("a listening TCP socket passed by descriptor is adopted, keeps its port, and accepts") {
            // As under systemd, the descriptor is inherited: the adopted channel owns it from now on (only it closes it).
            val server = ServerSocketChannel.open(java.net.StandardProtocolFamily.INET).bind(InetSocketAddress("127.0.0.1", 0))
            val fd = fdOf(server)
            val (log, _) = capture("test.activation.ok")
            val adopted =
                SocketActivation.adopt(log, mapOf("LISTEN_PID" to "$me", "LISTEN_FDS" to "1", "LISTEN_FDNAMES" to "web"), me, firstFd = fd)
                    .single()
            adopted.channel.use { ch ->
                adopted.name shouldBe "web"
                adopted.address shouldBe server.localAddress
                SocketChannel.open(adopted.address).use { ch.accept().use { c -> c.isConnected shouldBe true } }
            }
        }
    })
