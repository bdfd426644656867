package dev.kcluster.dsl.internal

import dev.kcluster.Cluster
import dev.kcluster.ListenOptions
import dev.kcluster.Message
import java.nio.channels.ServerSocketChannel
import kotlinx.coroutines.flow.Flow

/** What a [dev.kcluster.dsl.WorkerScope] stands on: the real worker runtime, or the standalone stand-in. */
internal interface WorkerBackend {
    val workerId: Int
    val standalone: Boolean

    fun listen(address: String, options: ListenOptions): ServerSocketChannel

    fun ready()

    suspend fun awaitTermination()

    fun send(message: Message)

    val incoming: Flow<Message>

    suspend fun receive(): Message?

    fun stop()
}

/** A worker launched by a watcher: everything goes through [Cluster]. */
internal object ClusterBackend : WorkerBackend {
    override val workerId: Int
        get() = Cluster.workerId

    override val standalone = false

    override fun listen(address: String, options: ListenOptions) = Cluster.serverSocketFactory().listen(address, options)

    override fun ready() = Cluster.ready()

    override suspend fun awaitTermination() = Cluster.awaitTermination()

    override fun send(message: Message) = Cluster.channel.send(message)

    override val incoming: Flow<Message>
        get() = Cluster.channel.incoming

    override suspend fun receive() = Cluster.channel.receive()

    override fun stop() = Cluster.stop()
}
