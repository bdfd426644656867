package dev.kcluster.internal.standalone

import dev.kcluster.LocalServerSocketFactory
import dev.kcluster.Message
import dev.kcluster.WorkerChannel
import dev.kcluster.internal.messages.MessageHub
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.firstOrNull
import org.slf4j.LoggerFactory

/**
 * The one implementation of standalone mode (a program run without a watcher), behind `Cluster` and the DSL's `--standalone`: worker id 0,
 * sockets bound locally, termination on SIGTERM, SIGINT or SIGHUP (a second signal exits at once), and, once a front end turns it on with
 * [enableLoopback], an in-process message channel whose other end is [fromWorker] / [toWorker].
 */
internal object StandaloneRuntime {
    const val WORKER_ID = 0

    private val log = LoggerFactory.getLogger("dev.kcluster.Cluster")
    val stop = CompletableDeferred<Unit>()
    private val loopback = AtomicBoolean()
    private val up = MessageHub<Message>(10_000, 64L * 1024 * 1024, log, "standalone messages to the watcher side") { it.size + 64 }
    private val down = MessageHub<Message>(10_000, 64L * 1024 * 1024, log, "standalone messages to the worker") { it.size + 64 }

    val serverSockets = LocalServerSocketFactory()

    /** Installs the signal handlers (once; [StandaloneSignals]) and returns the termination. */
    fun termination(): CompletableDeferred<Unit> {
        StandaloneSignals.install { stop.complete(Unit) }
        return stop
    }

    fun enableLoopback() = loopback.set(true)

    val loopbackEnabled: Boolean
        get() = loopback.get()

    /** The in-process worker's side of the loopback. */
    val channel: WorkerChannel =
        object : WorkerChannel {
            override fun send(message: Message) = up.offer(message)

            override suspend fun receive(): Message? = down.flow.firstOrNull()

            override val incoming: Flow<Message>
                get() = down.flow
        }

    val fromWorker: Flow<Message>
        get() = up.flow

    fun toWorker(message: Message) = down.offer(message)

    fun endMessages() = up.close()
}
