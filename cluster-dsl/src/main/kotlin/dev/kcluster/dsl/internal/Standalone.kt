package dev.kcluster.dsl.internal

import dev.kcluster.Cluster
import dev.kcluster.ClusterWorker
import dev.kcluster.ListenOptions
import dev.kcluster.Message
import dev.kcluster.RestartResult
import dev.kcluster.StandaloneCluster
import dev.kcluster.WorkerLoad
import dev.kcluster.WorkerState
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.time.Instant
import kotlinx.coroutines.CompletableDeferred

/**
 * The one in-process worker of a `--standalone` run, as the handlers see it. Standalone mode itself is core's ([Cluster] without a
 * watcher); this only gives the handlers a [ClusterWorker] to reply to.
 */
internal class LocalWorker : ClusterWorker {
    val sockets = java.util.concurrent.CopyOnWriteArrayList<ServerSocketChannel>()
    override val id = Cluster.workerId
    override val slot = 1
    override val pid: Long = ProcessHandle.current().pid()
    override val state = WorkerState.READY
    override val startedAt: Instant = Instant.now()
    override val restarts = 0
    override val load: WorkerLoad
        get() = WorkerLoad.NONE

    override fun send(message: Message) = StandaloneCluster.toWorker(message)

    override fun sendSocket(socket: SocketChannel, data: Message?) =
        throw UnsupportedOperationException("sendSocket needs a watcher; a --standalone run has no client-socket pipe")

    override suspend fun restart(): RestartResult = unsupported("restart()")

    override suspend fun stop() = unsupported("stop()")

    override fun kill() = unsupported("kill()")

    private fun unsupported(what: String): Nothing =
        throw UnsupportedOperationException("worker.$what needs a watcher; a --standalone run has one in-process worker")

    override fun toString() = "standalone worker (pid $pid)"
}

/** The worker side of a `--standalone` run: core's standalone [Cluster], plus READY and sockets for the handlers. */
internal class StandaloneBackend(private val local: LocalWorker, private val readySignal: CompletableDeferred<Unit>) :
    WorkerBackend by ClusterBackend {
    override val standalone = true

    override fun listen(address: String, options: ListenOptions): ServerSocketChannel =
        ClusterBackend.listen(address, options).also {
            local.sockets += it
            readySignal.complete(Unit)
        }

    override fun ready() {
        readySignal.complete(Unit)
    }
}

internal class LocalControl(private val local: LocalWorker) : Control {
    override val standalone = true
    override val workers: List<ClusterWorker>
        get() = listOf(local)

    override val listeningAddresses
        get() = local.sockets.mapNotNull { runCatching { it.localAddress as java.net.InetSocketAddress }.getOrNull() }

    override fun broadcast(message: Message): Int = 1.also { local.send(message) }

    override fun broadcastAllHosts(message: Message): Int = broadcast(message)

    override suspend fun restart(): RestartResult = unsupported("restart()")

    override suspend fun scale(count: Int) = unsupported("scale(n)")

    override fun stop() = Cluster.stop()

    private fun unsupported(what: String): Nothing =
        throw UnsupportedOperationException("$what needs a watcher; a --standalone run has one in-process worker (check isStandalone)")
}
