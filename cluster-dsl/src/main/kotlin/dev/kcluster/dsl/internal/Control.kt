package dev.kcluster.dsl.internal

import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.Message
import dev.kcluster.RestartResult

/** What a [dev.kcluster.dsl.WatcherScope] drives: a real watcher, or the standalone stand-in. */
internal interface Control {
    val standalone: Boolean
    val workers: List<ClusterWorker>
    val listeningAddresses: List<java.net.InetSocketAddress>

    fun broadcast(message: Message): Int

    fun broadcastAllHosts(message: Message): Int

    suspend fun restart(): RestartResult

    suspend fun scale(count: Int)

    fun stop()
}

internal class WatcherControl(private val watcher: ClusterWatcher, private val requestStop: () -> Unit) : Control {
    override val standalone = false
    override val workers: List<ClusterWorker>
        get() = watcher.workers

    override val listeningAddresses
        get() = watcher.listeningAddresses

    override fun broadcast(message: Message) = watcher.broadcast(message)

    override fun broadcastAllHosts(message: Message) = watcher.broadcast(message, allHosts = true)

    override suspend fun restart() = watcher.restart()

    override suspend fun scale(count: Int) = watcher.scale(count)

    override fun stop() = requestStop()
}
