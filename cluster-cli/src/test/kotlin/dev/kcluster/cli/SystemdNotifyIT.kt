package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldMatch
import java.nio.ByteBuffer
import java.nio.file.Files
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import org.newsclub.net.unix.AFUNIXDatagramChannel
import org.newsclub.net.unix.AFUNIXSocketAddress

/** A test-owned notify socket: every datagram received, in order. */
private class NotifyReceiver(val address: AFUNIXSocketAddress) : AutoCloseable {
    private val channel = AFUNIXDatagramChannel.open().apply { bind(address) }
    val received = LinkedBlockingQueue<String>()
    private val reader =
        Thread(
                {
                    val buf = ByteBuffer.allocate(4096)
                    while (true) {
                        buf.clear()
                        // The sender is an unbound socket: receive() returns no address for it, so only a failure ends the loop.
                        if (runCatching { channel.receive(buf) }.isFailure) break
                        buf.flip()
                        received += Charsets.UTF_8.decode(buf).toString()
                    }
                },
                "notify-receiver",
            )
            .apply {
                isDaemon = true
                start()
            }

    fun next(): String = received.poll(60, TimeUnit.SECONDS) ?: throw AssertionError("no notification within 60 s")

    override fun close() {
        channel.close()
        reader.join(5_000)
    }
}

/** End-to-end: `cluster` under a NOTIFY_SOCKET tells it READY, RELOADING/READY on SIGHUP, and STOPPING on SIGTERM. */
class SystemdNotifyIT :
    FunSpec({
        val h = CliHarness()
        afterSpec { h.cleanUp() }
        val base = arrayOf("-cp", h.testClasses) + h.workerJvm

        fun runSequence(receiver: NotifyReceiver, notifySocket: String) {
            val w = h.start("-w", "2", *base, TestServer::class.java.name, wrapper = listOf("env", "NOTIFY_SOCKET=$notifySocket"))
            withClue({ "$w\nreceived: ${receiver.received}" }) {
                receiver.next() shouldBe "READY=1\nMAINPID=${w.pid}\nSTATUS=2/2 workers ready"
                h.signal(w.pid, "HUP")
                receiver.next() shouldMatch Regex("RELOADING=1\nMONOTONIC_USEC=\\d+\nSTATUS=reloading 0/2")
                receiver.next() shouldBe "STATUS=reloading 1/2"
                receiver.next() shouldBe "STATUS=reloading 2/2"
                receiver.next() shouldBe "READY=1\nSTATUS=2/2 workers ready"
                h.signal(w.pid, "TERM")
                w.awaitExit() shouldBe 0
                receiver.next() shouldBe "STOPPING=1\nSTATUS=stopping"
                receiver.received.poll(500, TimeUnit.MILLISECONDS) shouldBe null
            }
        }

        test("a filesystem NOTIFY_SOCKET gets READY, RELOADING then READY for a reload, and STOPPING, in that order") {
            val path = h.dir.resolve("notify.sock")
            NotifyReceiver(AFUNIXSocketAddress.of(path)).use { runSequence(it, path.toString()) }
            Files.deleteIfExists(path)
        }

        test("an abstract NOTIFY_SOCKET (@name) gets the same sequence") {
            val name = "kcluster-test-notify-" + UUID.randomUUID()
            NotifyReceiver(AFUNIXSocketAddress.inAbstractNamespace(name)).use { runSequence(it, "@$name") }
        }
    })
