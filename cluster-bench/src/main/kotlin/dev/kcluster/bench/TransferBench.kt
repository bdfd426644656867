@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.bench

import dev.kcluster.ClientSocketSendPipe
import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.Message
import java.io.IOException
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.StandardSocketOptions
import java.nio.ByteBuffer
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import org.newsclub.net.unix.AFUNIXServerSocketChannel
import org.newsclub.net.unix.AFUNIXSocketAddress

/** Transfers per second and the per-batch rates behind the figure. */
internal class TransferResult(val transfers: Long, val seconds: Double, val batchRates: List<Double>) {
    val perSecond: Double
        get() = transfers / seconds
}

/**
 * Client-socket transfers over one [ClientSocketSendPipe] to a child JVM running [PipeReceiverMain], the same protocol as
 * bench/c/scm_rights.c: per batch, pre-create [batchSize] loopback TCP connections (not timed), then time sending every accepted end to the
 * child until the child's ack byte for the batch's last one arrives.
 */
internal class TransferBench(private val java: String, private val classpath: String, private val jvmOptions: List<String>) {
    fun run(batches: Int, batchSize: Int, warmup: Int): TransferResult {
        val dir =
            Files.createTempDirectory("kcluster-bench", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        val sock = dir.resolve("pipe.sock")
        val server = AFUNIXServerSocketChannel.open()
        var child: Process? = null
        try {
            server.bind(AFUNIXSocketAddress.of(sock.toFile()))
            child =
                ProcessBuilder(
                        listOf(java) +
                            jvmOptions +
                            KclusterJvm.ADD_OPENS +
                            listOf("-cp", classpath, PipeReceiverMain::class.java.name, sock.toString())
                    )
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start()
            val accepted = CompletableFuture.supplyAsync { server.accept() }
            val channel =
                try {
                    accepted.get(60, TimeUnit.SECONDS)
                } catch (e: TimeoutException) {
                    throw IOException("pipe receiver child (pid ${child.pid()}) did not connect within 60 s", e)
                }
            ClientSocketSendPipe(channel).use { pipe ->
                return measure(pipe, batches, batchSize, warmup)
            }
        } finally {
            server.close()
            child?.let { p -> if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor() }
            deleteQuietly(sock, dir)
        }
    }

    private fun measure(pipe: ClientSocketSendPipe, batches: Int, batchSize: Int, warmup: Int): TransferResult {
        val last = Message.ofBytes(byteArrayOf(1))
        val ack = ByteBuffer.allocate(1)
        var transfers = 0L
        var nanos = 0L
        val rates = ArrayList<Double>()
        ServerSocketChannel.open().use { tcp ->
            tcp.bind(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128)
            val clients = arrayOfNulls<SocketChannel>(batchSize)
            val ends = arrayOfNulls<SocketChannel>(batchSize)
            for (b in 0 until warmup + batches) {
                try {
                    for (i in 0 until batchSize) {
                        clients[i] = SocketChannel.open(tcp.localAddress)
                        ends[i] = tcp.accept()
                    }
                    val t0 = System.nanoTime()
                    for (i in 0 until batchSize) {
                        pipe.send(ends[i]!!, if (i == batchSize - 1) last else null)
                        ends[i] = null
                    }
                    ack.clear()
                    if (clients[batchSize - 1]!!.read(ack) != 1)
                        throw IOException("pipe receiver child closed the last connection without its ack")
                    val dt = System.nanoTime() - t0
                    if (b >= warmup) {
                        transfers += batchSize
                        nanos += dt
                        rates += batchSize * 1e9 / dt
                    }
                } finally {
                    for (i in 0 until batchSize) {
                        ends[i]?.close()
                        ends[i] = null
                        clients[i]?.let { c ->
                            // RST instead of FIN: no TIME_WAIT build-up over many thousands of connections.
                            runCatching { c.setOption(StandardSocketOptions.SO_LINGER, 0) }
                            c.close()
                        }
                        clients[i] = null
                    }
                }
            }
        }
        return TransferResult(transfers, nanos / 1e9, rates)
    }

    private fun deleteQuietly(vararg paths: Path) = paths.forEach { runCatching { Files.deleteIfExists(it) } }
}
