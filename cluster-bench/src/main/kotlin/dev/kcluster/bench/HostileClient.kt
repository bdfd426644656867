package dev.kcluster.bench

import java.io.File
import java.net.SocketException
import java.nio.ByteBuffer
import java.security.SecureRandom
import java.util.ArrayDeque
import java.util.concurrent.atomic.AtomicInteger
import kotlin.system.exitProcess
import org.newsclub.net.unix.AFUNIXSocket
import org.newsclub.net.unix.AFUNIXSocketAddress

/**
 * One round of hostile connections to a watcher's `ipc.sock` (bench/hostile.sh): COUNT connections from THREADS threads, in turn sending
 * garbage, an oversized length, a truncated frame then closing, a HELLO with a wrong key, nothing (held open), or a truncated frame (held
 * open). Each thread holds at most HOLD silent sockets, closing the oldest; all are closed at the end. Prints one summary line.
 *
 *     HostileClient SOCKET [COUNT=10000] [THREADS=4] [HOLD=100]
 */
public object HostileClient {
    @JvmStatic
    public fun main(args: Array<String>) {
        if (args.isEmpty()) {
            System.err.println("usage: HostileClient SOCKET [COUNT] [THREADS] [HOLD]")
            exitProcess(2)
        }
        val socket = File(args[0])
        val count = args.getOrNull(1)?.toInt() ?: 10_000
        val threads = args.getOrNull(2)?.toInt() ?: 4
        val hold = args.getOrNull(3)?.toInt() ?: 100
        val next = AtomicInteger()
        val rejected = AtomicInteger()
        val reset = AtomicInteger()
        val held = AtomicInteger()
        val errors = AtomicInteger()
        val random = SecureRandom()
        val t0 = System.nanoTime()
        val workers =
            List(threads) {
                Thread {
                        val holds = ArrayDeque<AFUNIXSocket>()
                        while (true) {
                            val i = next.getAndIncrement()
                            if (i >= count) break
                            try {
                                val s = AFUNIXSocket.connectTo(AFUNIXSocketAddress.of(socket))
                                s.soTimeout = 120_000
                                val out = s.outputStream
                                val kind = i % 6
                                when (kind) {
                                    0 -> out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".toByteArray())
                                    1 -> out.write(header(Int.MAX_VALUE, 1))
                                    2 -> {
                                        out.write(header(100, 1) + ByteArray(10))
                                        s.shutdownOutput()
                                    }
                                    3 -> {
                                        val key = ByteArray(32).also(random::nextBytes)
                                        val hello = ByteBuffer.allocate(2 + 4 + 2 + 32).putShort(1).putInt(1).putShort(32).put(key).array()
                                        out.write(header(hello.size, 1) + hello)
                                    }
                                    4 -> {}
                                    5 -> out.write(header(40, 1) + ByteArray(3))
                                }
                                if (kind >= 4) {
                                    holds.addLast(s)
                                    held.incrementAndGet()
                                    if (holds.size > hold) holds.pollFirst().close()
                                } else {
                                    try {
                                        s.inputStream.readAllBytes()
                                        rejected.incrementAndGet()
                                    } catch (e: SocketException) {
                                        reset.incrementAndGet()
                                    }
                                    s.close()
                                }
                            } catch (e: Exception) {
                                if (errors.incrementAndGet() <= 5) System.err.println("HostileClient: connection $i: $e")
                            }
                        }
                        holds.forEach { runCatching { it.close() } }
                    }
                    .apply { start() }
            }
        workers.forEach(Thread::join)
        val ms = (System.nanoTime() - t0) / 1_000_000
        println("connections=$count answered=${rejected.get()} reset=${reset.get()} held=${held.get()} errors=${errors.get()} ms=$ms")
    }

    private fun header(length: Int, type: Int): ByteArray = ByteBuffer.allocate(5).putInt(length).put(type.toByte()).array()
}
