package dev.kcluster.dsl.internal

import dev.kcluster.Cluster
import dev.kcluster.ClusterWorker
import dev.kcluster.ListenOptions
import dev.kcluster.Message
import dev.kcluster.RestartResult
import dev.kcluster.WorkerMessage
import dev.kcluster.WorkerState
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.consumeAsFlow
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.time.Instant

/** The one in-process worker of a `--standalone` run, as the handlers see it. */
internal class LocalWorker : ClusterWorker {
    val inbox = Channel<Message>(Channel.UNLIMITED)
    val sockets = java.util.concurrent.CopyOnWriteArrayList<ServerSocketChannel>()
    override val id = 0
    override val pid: Long = ProcessHandle.current().pid()
    override val state = WorkerState.READY
    override val startedAt: Instant = Instant.now()
    override val restarts = 0
    override fun send(message: Message) {
        inbox.trySend(message)
    }
    override fun sendSocket(socket: SocketChannel, data: Message?) =
        throw UnsupportedOperationException("sendSocket needs a watcher; a --standalone run has no client-socket pipe")
    override fun toString() = "standalone worker (pid $pid)"
}

internal class StandaloneBackend(
    private val local: LocalWorker,
    private val toWatcher: Channel<WorkerMessage>,
    private val readySignal: CompletableDeferred<Unit>,
) : WorkerBackend {
    override val workerId = 0
    override val standalone = true
    override fun listen(address: String, options: ListenOptions): ServerSocketChannel =
        Cluster.serverSocketFactory().listen(address, options).also {
            local.sockets += it
            readySignal.complete(Unit)
        }
    override fun ready() {
        readySignal.complete(Unit)
    }
    override suspend fun awaitTermination() = Cluster.awaitTermination()
    override fun send(message: Message) {
        toWatcher.trySend(WorkerMessage(local, message))
    }
    override val incoming: Flow<Message> get() = local.inbox.consumeAsFlow()
    override suspend fun receive(): Message? = local.inbox.receiveCatching().getOrNull()
    override fun stop() = Cluster.stop()
}

internal class LocalControl(private val local: LocalWorker) : Control {
    override val standalone = true
    override val workers: List<ClusterWorker> get() = listOf(local)
    override val listeningAddresses get() = local.sockets.mapNotNull { runCatching { it.localAddress as java.net.InetSocketAddress }.getOrNull() }
    override fun broadcast(message: Message): Int = 1.also { local.send(message) }
    override suspend fun restart(): RestartResult = unsupported("restart()")
    override suspend fun scale(count: Int) = unsupported("scale(n)")
    override fun stop() = Cluster.stop()

    private fun unsupported(what: String): Nothing =
        throw UnsupportedOperationException("$what needs a watcher; a --standalone run has one in-process worker (check isStandalone)")
}
