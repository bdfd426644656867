package dev.kcluster.cli.testing

import dev.kcluster.Cluster
import dev.kcluster.Message
import java.nio.ByteBuffer
import java.util.concurrent.locks.LockSupport
import org.slf4j.LoggerFactory

/**
 * The e2e tests' worker program. It takes a shared listener on 127.0.0.1:0 (which makes it READY), answers each connection with "worker
 * <id>\n", and stops when the watcher says so. Arguments:
 * - `stubborn`: never finishes stopping (for forced stops);
 * - `fail-above N`: a worker whose id is above N fails before READY (for reload rollbacks);
 * - `crash`: crashes right after READY (for crash loops);
 * - `flood N`: sends N messages to the watcher right after READY (nothing consumes them under `cluster`);
 * - `versioned`: answers "worker <id> <version>\n", the version read at start from the classpath resource `kcl-version.txt` (a jar that the
 *   tests rewrite between reloads);
 * - `http`: answers each connection as HTTP/1.1 (`200`, body "worker <id>", `Connection: close`) after reading the request, and on stop
 *   closes its listener and finishes the connection in hand before it exits (so a reload under load fails no request).
 */
object TestServer {
    @JvmStatic
    fun main(args: Array<String>) {
        val log = LoggerFactory.getLogger(TestServer::class.java)
        val id = Cluster.workerId ?: 0
        val failAbove = args.indexOf("fail-above").takeIf { it >= 0 }?.let { args[it + 1].toInt() }
        if (failAbove != null && id > failAbove) throw IllegalStateException("worker $id refuses to start (fail-above $failAbove)")
        val version =
            if ("versioned" in args) {
                " " + (TestServer::class.java.classLoader.getResource("kcl-version.txt") ?: error("no kcl-version.txt")).readText().trim()
            } else ""
        val server = Cluster.serverSocketFactory().listen("127.0.0.1:0")
        log.info("hello from worker {} args={}", id, args.toList())
        log.info(
            "worker {} env KCL_TEST={} cwd={} prop kcl.test={}",
            id,
            System.getenv("KCL_TEST"),
            java.nio.file.Path.of("").toAbsolutePath(),
            System.getProperty("kcl.test"),
        )
        if ("crash" in args) throw IllegalStateException("worker $id crashes as requested")
        args
            .indexOf("flood")
            .takeIf { it >= 0 }
            ?.let { i ->
                val n = args[i + 1].toInt()
                repeat(n) { k -> Cluster.channel.send(Message.ofString("message $k from worker $id")) }
                log.info("worker {} sent {} messages", id, n)
            }
        val http = "http" in args
        val acceptor =
            Thread(
                    {
                        while (true) {
                            val c = runCatching { server.accept() }.getOrNull() ?: break
                            runCatching {
                                c.use { if (http) answerHttp(it, id) else it.write(ByteBuffer.wrap("worker $id$version\n".toByteArray())) }
                            }
                        }
                    },
                    "accept",
                )
                .apply {
                    isDaemon = true
                    start()
                }
        Cluster.awaitTerminationBlocking()
        log.info("worker {} stopping", id)
        if (http) {
            server.close()
            acceptor.join(5_000)
        }
        if ("stubborn" in args) {
            log.info("worker {} refuses to stop", id)
            while (true) LockSupport.park()
        }
    }

    private fun answerHttp(c: java.nio.channels.SocketChannel, id: Int) {
        val buf = ByteBuffer.allocate(4096)
        while (c.read(buf) > 0 && !String(buf.array(), 0, buf.position()).contains("\r\n\r\n")) Unit
        val body = "worker $id\n"
        c.write(ByteBuffer.wrap("HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n$body".toByteArray()))
    }
}
