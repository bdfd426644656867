package dev.kcluster.dsl.internal

import dev.kcluster.Cluster
import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.StandaloneCluster
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import dev.kcluster.dsl.ClusterSpec
import dev.kcluster.dsl.WatcherScope
import dev.kcluster.dsl.WorkerScope
import dev.kcluster.handleSignals
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.flow.emptyFlow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.transformWhile
import kotlinx.coroutines.job
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory

/** Runs a `cluster { }` program in the mode this process is in; returns the exit code (watcher, standalone). */
internal object Runner {
    const val STANDALONE_FLAG = "--standalone"
    const val STANDALONE_ENV = "KCLUSTER_STANDALONE"
    private const val DRAIN_MILLIS = 5_000L
    private val log = LoggerFactory.getLogger("dev.kcluster.dsl.watcher")

    fun run(
        args: List<String>,
        caller: Class<*>?,
        installSignals: Boolean,
        standaloneEnv: String? = System.getenv(STANDALONE_ENV),
        block: ClusterSpec.() -> Unit,
    ): Int {
        val standalone = !Cluster.isWorker && (STANDALONE_FLAG in args || standaloneEnv == "1" || standaloneEnv == "true")
        val userArgs = args.filter { it != STANDALONE_FLAG }
        val spec = ClusterSpec(userArgs).apply(block).freeze()
        return when {
            Cluster.isWorker -> runWorker(spec).let { 0 }
            standalone -> runStandalone(spec)
            else -> runWatcher(spec, caller, installSignals)
        }
    }

    fun config(spec: ClusterSpec, caller: Class<*>?): WatcherConfig {
        val b = WatcherConfig.builder(MainClass.find(spec.mainClass, caller)).args(spec.args).jvmOptions(spec.jvmOptions)
        spec.environment.forEach { (k, v) -> b.environment(k, v) }
        val t = spec.timeouts
        val r = spec.restart
        t.start?.let(b::startTimeout)
        (r.readyTimeout ?: t.ready)?.let(b::readyTimeout)
        (r.stopTimeout ?: t.stop)?.let(b::stopTimeout)
        t.heartbeat?.let { (interval, timeout) -> b.heartbeatInterval(interval).heartbeatTimeout(timeout) }
        r.maxCrashes?.let { (n, window) -> b.maxRestarts(n, window) }
        r.maxBackoff?.let(b::maxBackoff)
        spec.group?.let(b::group)
        spec.configBlocks.forEach { b.it() }
        return b.build()
    }

    // When the block returns, main returns: the worker has finished unless it still runs non-daemon
    // threads (core's one rule, see WorkerMain). An exception instead propagates out of main: the
    // worker crashed and is respawned.
    private fun runWorker(spec: ClusterSpec) = runBlocking(Dispatchers.Default) { runWorkerBlock(spec, ClusterBackend) }

    /**
     * Runs the worker block. Coroutines it launches live under their own supervisor: one failing while the block runs fails the block (the
     * worker crashes with that exception); once the block has returned they are cancelled first, then the server sockets are closed (ending
     * blocked accepts), and what they throw after that is ignored.
     */
    private suspend fun runWorkerBlock(spec: ClusterSpec, backend: WorkerBackend) {
        val children = SupervisorJob()
        val failed = CompletableDeferred<Throwable>()
        val handler = CoroutineExceptionHandler { _, e ->
            if (!failed.complete(e)) log.debug("worker coroutine failed after the block ended", e)
        }
        val scope = WorkerScope(backend, spec.args, currentCoroutineContext() + children + handler)
        try {
            coroutineScope {
                val body = launch { spec.workerBlock!!.invoke(scope) }
                val watchdog = launch { throw failed.await() }
                body.join()
                watchdog.cancel()
            }
        } finally {
            failed.complete(CancellationException("worker block ended"))
            children.cancel()
            scope.closeSockets()
            withContext(NonCancellable) { withTimeoutOrNull(DRAIN_MILLIS) { children.join() } }
        }
    }

    private fun runStandalone(spec: ClusterSpec): Int =
        runBlocking(Dispatchers.Default) {
            StandaloneCluster.enable()
            val local = LocalWorker()
            val readySignal = CompletableDeferred<Unit>()
            val handlerJob = SupervisorJob(coroutineContext.job)
            val messages = StandaloneCluster.fromWorker.map { WorkerMessage(local, it) }
            val handlers =
                Handlers(spec, CoroutineScope(coroutineContext + handlerJob), WatcherScope(LocalControl(local)), messages, emptyFlow())
            launch(handlerJob) {
                readySignal.await()
                handlers.started()
            }
            try {
                runWorkerBlock(spec, StandaloneBackend(local, readySignal))
                // Let the handlers take what the block sent, then end.
                StandaloneCluster.endMessages()
                withTimeoutOrNull(DRAIN_MILLIS) { handlers.jobs.toList().joinAll() }
                0
            } finally {
                handlerJob.cancel()
            }
        }

    private fun runWatcher(spec: ClusterSpec, caller: Class<*>?, installSignals: Boolean): Int =
        runBlocking(Dispatchers.Default) {
            val watcher = ClusterWatcher(config(spec, caller))
            val outer = this
            val stopping = AtomicBoolean()
            val requestStop = {
                if (stopping.compareAndSet(false, true)) outer.launch { watcher.stop() }
                Unit
            }
            val handlerJob = SupervisorJob(coroutineContext.job)
            val events =
                watcher.events.transformWhile {
                    emit(it)
                    it !is ClusterEvent.Stopped
                }
            val handlers =
                Handlers(
                    spec,
                    CoroutineScope(coroutineContext + handlerJob),
                    WatcherScope(WatcherControl(watcher, requestStop)),
                    watcher.messages,
                    events,
                )
            val signals = if (installSignals) watcher.handleSignals { onStop { requestStop() } } else null
            try {
                val failure =
                    try {
                        watcher.start(spec.workerCount)
                        handlers.started()
                        watcher.awaitTermination()
                    } catch (e: Exception) {
                        watcher.stop()
                        e
                    }
                withTimeoutOrNull(DRAIN_MILLIS) { handlers.jobs.toList().joinAll() }
                if (failure != null) log.error("the cluster stopped on a failure: {}", failure.message)
                if (failure == null) 0 else 1
            } finally {
                signals?.close()
                handlerJob.cancel()
                withContext(NonCancellable) { watcher.stop() }
            }
        }
}
