package dev.kcluster.dsl.internal

import dev.kcluster.ClusterEvent
import dev.kcluster.WorkerMessage
import dev.kcluster.dsl.ClusterSpec
import dev.kcluster.dsl.ReceivedMessage
import dev.kcluster.dsl.WatcherScope
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.launch
import org.slf4j.LoggerFactory

/**
 * The watcher-side handlers: each `onMessage<T>` handler is one collector of the watcher's message flow (with its rules: every collector
 * gets every message; bounded buffers, counted drops), each event handler one collector of its events, so a slow handler delays only
 * itself. A handler that throws is logged and keeps its place.
 */
internal class Handlers(
    private val spec: ClusterSpec,
    private val scope: CoroutineScope,
    private val watcherScope: WatcherScope,
    messages: Flow<WorkerMessage>,
    events: Flow<ClusterEvent>,
) {
    private val started = spec.startedHandlers
    val jobs = java.util.concurrent.CopyOnWriteArrayList<Job>()

    init {
        for (h in spec.messageHandlers) jobs +=
            scope.launch(start = CoroutineStart.UNDISPATCHED) {
                messages
                    .filter { it.message.type == h.type }
                    .collect { m -> safely("onMessage", m) { watcherScope.(h.handler)(ReceivedMessage(m.worker, h.decode(m), m.message)) } }
            }
        for (h in spec.eventHandlers) jobs +=
            scope.launch(start = CoroutineStart.UNDISPATCHED) {
                events.collect { e -> safely("onEvent/onWorkerExit", e) { watcherScope.h(e) } }
            }
    }

    fun started() {
        for (h in started) jobs += scope.launch { safely("onStarted", Unit) { watcherScope.h() } }
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
