package dev.kcluster.dsl.internal

import dev.kcluster.ClusterEvent
import dev.kcluster.WorkerMessage
import dev.kcluster.dsl.ClusterSpec
import dev.kcluster.dsl.ReceivedMessage
import dev.kcluster.dsl.WatcherScope
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import org.slf4j.LoggerFactory

/**
 * The watcher-side handlers: one coroutine per handler under [scope], each fed in arrival order from
 * its own queue, so a slow handler delays only itself. A handler that throws is logged and keeps its place.
 */
internal class Handlers(spec: ClusterSpec, private val scope: CoroutineScope, private val watcherScope: WatcherScope) {
    private val messageQueues = spec.messageHandlers.map { h -> h to Channel<WorkerMessage>(Channel.UNLIMITED) }
    private val eventQueues = spec.eventHandlers.map { h -> h to Channel<ClusterEvent>(Channel.UNLIMITED) }
    private val started = spec.startedHandlers
    private val types = spec.messageHandlers.map { it.type }.toSet()
    val jobs = java.util.concurrent.CopyOnWriteArrayList<Job>()

    init {
        for ((h, queue) in messageQueues) jobs += scope.launch {
            for (m in queue) safely("onMessage", m) { watcherScope.(h.handler)(ReceivedMessage(m.worker, h.decode(m), m.message)) }
        }
        for ((h, queue) in eventQueues) jobs += scope.launch {
            for (e in queue) safely("onEvent/onWorkerExit", e) { watcherScope.h(e) }
        }
    }

    fun message(m: WorkerMessage) {
        for ((h, queue) in messageQueues) if (h.type == m.message.type) queue.trySend(m)
        if (m.message.type !in types) log.debug("no onMessage handler for {} from worker {}", m.message.type, m.worker.id)
    }

    fun event(e: ClusterEvent) {
        for ((_, queue) in eventQueues) queue.trySend(e)
    }

    fun started() {
        for (h in started) jobs += scope.launch { safely("onStarted", Unit) { watcherScope.h() } }
    }

    /** No more input: the handlers finish what is queued and end. */
    fun close() {
        messageQueues.forEach { it.second.close() }
        eventQueues.forEach { it.second.close() }
    }

    private suspend fun safely(what: String, input: Any, block: suspend () -> Unit) {
        try {
            block()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            log.error("{} handler failed on {}", what, input, e)
        }
    }

    private companion object {
        val log = LoggerFactory.getLogger("dev.kcluster.dsl.watcher")
    }
}
