package dev.kcluster.internal.launch

import dev.kcluster.ListenOptions
import dev.kcluster.LocalServerSocketFactory
import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.Frame
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.Handshake
import dev.kcluster.internal.ipc.IpcHub
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.net.HttpProbe
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.closeQuietly
import dev.kcluster.internal.net.isV6
import java.net.InetSocketAddress
import java.nio.channels.ServerSocketChannel
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.future.await
import kotlinx.coroutines.selects.select
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory

/**
 * The training run that creates a class-data archive: one worker JVM of the user's program, started with the archive-creating option to
 * READY, then stopped gracefully (the JVM writes the archive as it exits). Self-contained: it has its own [IpcHub], so it is no member of
 * the cluster, gets no message or broadcast, and its `listen()` calls are answered with private ephemeral loopback sockets (the requested
 * address is ignored; its socket mode is forced to shared), so it never takes a client connection; once it is READY, [probe] sends one
 * request to each of them, so that the archive holds the request path too. Its output is logged at debug; a failure is one warning.
 *
 * The supervisor calls [train] once, in the background, after the cluster's first start is READY.
 */
internal class ArchiveTrainer(
    private val cache: ArchiveCache,
    private val startTimeoutMillis: Long,
    private val readyTimeoutMillis: Long,
    private val maxFrame: Int,
    private val launch: (workerId: Int, socket: Path, extraOptions: List<String>) -> Process,
) {
    /** Runs the training worker to the end; true when a valid archive is in place afterwards. Cancelling kills the worker. */
    suspend fun train(): Boolean =
        withContext(Dispatchers.IO) {
            val output = cache.archive.resolveSibling("${cache.archive.fileName}.${ProcessHandle.current().pid()}.tmp")
            val t0 = System.nanoTime()
            val tail = ArrayDeque<String>()
            val listeners = CopyOnWriteArrayList<ServerSocketChannel>()
            var process: Process? = null
            var conn: Connection? = null
            val failure =
                try {
                    removeLeftovers()
                    IpcHub(startTimeoutMillis, maxFrame).use { hub ->
                        val key = Handshake.newKey()
                        val expected = hub.expect(TRAINING_ID, key)
                        val p = launch(TRAINING_ID, hub.socketPath, cache.createOptions(output)).also { process = it }
                        expected.pid.complete(p.pid())
                        runCatching { p.outputStream.use { it.write((Handshake.toHex(key) + "\n").toByteArray()) } }
                        for ((stream, name) in listOf(p.inputStream to "stdout", p.errorStream to "stderr")) {
                            Thread(
                                    {
                                        runCatching {
                                            stream.bufferedReader().forEachLine { line ->
                                                log.debug("training {}: {}", name, line)
                                                synchronized(tail) {
                                                    tail.addLast(line)
                                                    if (tail.size > 10) tail.removeFirst()
                                                }
                                            }
                                        }
                                    },
                                    "kcluster-training-$name",
                                )
                                .apply {
                                    isDaemon = true
                                    start()
                                }
                        }
                        p.onExit().thenRun { expected.cancel(IllegalStateException("the training worker exited before connecting")) }
                        val ready = CompletableDeferred<Unit>()
                        val c = withTimeoutOrNull(startTimeoutMillis) { runCatching { expected.connection.await() }.getOrNull() }
                        if (c == null) {
                            "it did not connect within $startTimeoutMillis ms"
                        } else {
                            conn = c
                            c.on(FrameType.READY) { ready.complete(Unit) }
                            c.on(FrameType.LISTEN) { frame -> answerListen(c, frame, listeners) }
                            for (ignored in
                                listOf(FrameType.MESSAGE, FrameType.LOG, FrameType.PONG, FrameType.STOPPING, FrameType.EXIT_REASON)) c.on(
                                ignored
                            ) {}
                            c.start()
                            val readyOrExit =
                                withTimeoutOrNull(readyTimeoutMillis) {
                                    select<Boolean> {
                                        ready.onAwait { true }
                                        p.onExit().asDeferred().onAwait { false }
                                    }
                                }
                            when (readyOrExit) {
                                null -> "it was not READY within $readyTimeoutMillis ms"
                                false -> "it exited before READY with code ${p.exitValue()}"
                                else -> {
                                    // A request to each listener puts the accept and request path's classes in the archive too.
                                    for (l in listeners) runCatching { probe(l.localAddress as InetSocketAddress) }
                                    c.send(FrameType.STOP)
                                    val code = withTimeoutOrNull(DUMP_TIMEOUT_MILLIS) { p.onExit().await().exitValue() }
                                    when {
                                        code == null -> "it did not exit within ${DUMP_TIMEOUT_MILLIS / 1000} s of STOP"
                                        code != 0 -> "it exited with code $code"
                                        ArchiveCache.stamp(output) == null -> "the JVM wrote no archive"
                                        !cache.install(output) -> "the JVM rejected the new archive"
                                        else -> null
                                    }
                                }
                            }
                        }
                    }
                } catch (e: Exception) {
                    if (e is kotlinx.coroutines.CancellationException) throw e
                    "${e.javaClass.simpleName}: ${e.message}"
                } finally {
                    process?.let { if (it.isAlive) it.destroyForcibly() }
                    conn?.close()
                    listeners.forEach { it.closeQuietly() }
                    runCatching { Files.deleteIfExists(output) }
                    runCatching { Files.deleteIfExists(output.resolveSibling("${output.fileName}.config")) }
                }
            if (failure == null) {
                log.info(
                    "class cache: created {} ({} KiB) in {} ms; later worker starts use it",
                    cache.archive,
                    Files.size(cache.archive) / 1024,
                    (System.nanoTime() - t0) / 1_000_000,
                )
                true
            } else {
                val last = synchronized(tail) { tail.lastOrNull { it.isNotBlank() } }
                log.warn(
                    "class cache: training run for {} failed: {}{}; workers start without an archive",
                    cache.archive.fileName,
                    failure,
                    last?.let { " (last output: $it)" } ?: "",
                )
                false
            }
        }

    /** Deletes temporary outputs of training runs whose watcher died (a watcher's pid is in the name). */
    private fun removeLeftovers() {
        val prefix = "${cache.archive.fileName}."
        Files.newDirectoryStream(cache.archive.parent, "$prefix*.tmp*").use { files ->
            for (f in files) {
                val pid = f.fileName.toString().removePrefix(prefix).substringBefore('.').toLongOrNull()
                if (pid == ProcessHandle.current().pid() || pid == null || ProcessHandle.of(pid).isEmpty) Files.deleteIfExists(f)
            }
        }
    }

    /**
     * One HTTP/1.1 `GET /` (`User-Agent: kcluster-training`) to a training listener ([HttpProbe]). Most servers in workers speak HTTP; one
     * that does not just sees a connection with bytes it rejects, which only costs the archive those classes.
     */
    private fun probe(address: InetSocketAddress) {
        java.net.Socket().use { s ->
            s.connect(address, HttpProbe.TIMEOUT_MILLIS)
            HttpProbe.get(s, "/", "kcluster-training")
        }
    }

    /** Answers LISTEN with a fresh socket on an ephemeral loopback port, whatever was asked. */
    private fun answerListen(conn: Connection, frame: Frame, listeners: MutableList<ServerSocketChannel>) {
        val r = PayloadReader(frame.payload, "LISTEN")
        val id = r.i32()
        r.str()
        val options = ListenOptions(backlog = r.i32().coerceAtLeast(1), reuseAddress = r.bool(), tcpNoDelay = r.bool())
        val channel =
            try {
                LocalServerSocketFactory.bindLocal("127.0.0.1:0", options).also(listeners::add)
            } catch (e: Exception) {
                conn.send(FrameType.LISTEN_ERR, PayloadWriter().i32(id).str(e.javaClass.name).str(e.message ?: e.toString()).toByteArray())
                return
            }
        val local = channel.localAddress as InetSocketAddress
        conn.send(
            FrameType.LISTEN_OK,
            PayloadWriter().i32(id).bool(local.isV6).str(local.address.hostAddress).i32(local.port).toByteArray(),
            JdkChannels.fdOf(channel),
        )
    }

    private fun <T> java.util.concurrent.CompletableFuture<T>.asDeferred() =
        CompletableDeferred<T>().also { d -> whenComplete { v, e -> if (e != null) d.completeExceptionally(e) else d.complete(v) } }

    companion object {
        private val log = LoggerFactory.getLogger("dev.kcluster.ClassCache")

        /** The training worker's id: real workers count from 1. */
        const val TRAINING_ID: Int = 0

        /** Exit after STOP includes writing the archive (the JDK 25 AOT cache assembles in a child JVM: seconds). */
        private const val DUMP_TIMEOUT_MILLIS = 180_000L
    }
}
