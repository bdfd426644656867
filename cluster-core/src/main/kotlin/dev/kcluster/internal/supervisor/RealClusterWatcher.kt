package dev.kcluster.internal.supervisor

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterException
import dev.kcluster.ClusterState
import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.GroupMember
import dev.kcluster.HostRestart
import dev.kcluster.InternalKclusterApi
import dev.kcluster.MemberWorker
import dev.kcluster.Message
import dev.kcluster.RestartResult
import dev.kcluster.ServerSocketPipeProvider
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import dev.kcluster.WorkerStatus
import dev.kcluster.internal.balance.Balancer
import dev.kcluster.internal.group.BroadcastLimit
import dev.kcluster.internal.group.GroupExtension
import dev.kcluster.internal.group.GroupHost
import dev.kcluster.internal.group.GroupSession
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.IpcHub
import dev.kcluster.internal.ipc.toPayload
import dev.kcluster.internal.launch.Launcher
import dev.kcluster.internal.log.LogOutput
import dev.kcluster.internal.messages.MessageHub
import dev.kcluster.internal.systemd.SocketActivation
import java.net.InetSocketAddress
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.selects.select
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory

/**
 * The watcher: the cluster's lifecycle ([ClusterState.Phase]), its slots, and what happens when a worker's life changes. The parts it
 * composes each do one thing: [Spawner] (launch and follow a process), [FrameRouting], [Life] (one worker's states), [RestartPolicy],
 * [HeartbeatMonitor], [StopEscalation], [RollingRestart] and [Scaling].
 */
@OptIn(InternalKclusterApi::class)
internal class RealClusterWatcher(override val config: WatcherConfig) : ClusterWatcher {
    private val log = LoggerFactory.getLogger(ClusterWatcher::class.java)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default + CoroutineName("kcluster-watcher"))
    private val lifecycle = Mutex()
    private val slots = CopyOnWriteArrayList<Slot>()
    private val live = ConcurrentHashMap<Int, RealWorker>()
    private val provider = ServerSocketPipeProvider()
    private val messageHub =
        MessageHub<WorkerMessage>(config.messageBufferCount, config.messageBufferBytes, log, "messages from workers") { m ->
            m.message.size + m.message.type.length + 64
        }
    private val eventFlow = MutableSharedFlow<ClusterEvent>(extraBufferCapacity = EVENT_BUFFER, onBufferOverflow = BufferOverflow.SUSPEND)
    private val droppedEvents = java.util.concurrent.atomic.AtomicLong()
    private val stateFlow = MutableStateFlow(ClusterState(ClusterState.Phase.NEW, emptyList()))
    private val terminated = CompletableDeferred<Throwable?>()
    private val stopDone = CompletableDeferred<Unit>()
    private val policy = RestartPolicy(config.maxRestarts, config.restartWindow.toNanos(), config.maxBackoff.toMillis())
    private val balancer = if (config.socketMode == SocketMode.BALANCE) Balancer(config.balance, provider) else null
    private val stopper = StopEscalation(config.stopTimeout.toMillis(), log, beforeStop = { w -> balancer?.retire(w) })
    @Volatile private var phase = ClusterState.Phase.NEW
    @Volatile private var failure: Throwable? = null

    private lateinit var hub: IpcHub
    private lateinit var spawner: Spawner
    private var heartbeat: Job? = null
    private val standbys =
        StandbyPool(config.standby, { spawner }, log, running = { phase == ClusterState.Phase.RUNNING }, changed = ::publish)
    private val hangs = HangHandler(config.javaCommand, scope, log, ::emit)
    @Volatile private var metricsEndpoint: dev.kcluster.internal.metrics.WatcherMetrics? = null
    private val createdAtMillis = System.currentTimeMillis()
    private val hostsFlow = MutableStateFlow(listOf(localMember()))
    private val broadcastLimit = BroadcastLimit()
    private var groupExtension: GroupExtension? = null
    @Volatile private var groupSession: GroupSession? = null

    /** What this host runs for its part of a group restart (see `setHostRestart`); null: [restart]. */
    @Volatile internal var hostRestart: (suspend () -> RestartResult)? = null
    private val recycling =
        Recycling(
            config,
            config.heartbeatInterval.toMillis().coerceAtMost(1_000),
            workers = { slots.mapNotNull { it.worker } },
            recycle = ::recycle,
        )
    private val exitHook =
        Thread(
            {
                hub.close()
                balancer?.close()
                provider.close()
            },
            "kcluster-watcher-exit",
        )

    init {
        if (LogOutput.source == "main") LogOutput.source = "watcher"
    }

    override val workers: List<ClusterWorker>
        get() = slots.mapNotNull { s -> s.worker?.takeIf { it.life !is Life.Exited } }

    override val messages: Flow<WorkerMessage> = messageHub.flow
    override val events: SharedFlow<ClusterEvent> = eventFlow.asSharedFlow()
    override val state: StateFlow<ClusterState> = stateFlow.asStateFlow()
    override val droppedMessages: Long
        get() = messageHub.dropped

    override val listeningAddresses: List<InetSocketAddress>
        get() = provider.addresses

    override val hosts: StateFlow<List<GroupMember>> = hostsFlow.asStateFlow()

    override suspend fun start(count: Int) {
        require(count >= 1) { "a cluster needs at least 1 worker, got $count" }
        lifecycle.withLock {
            check(phase == ClusterState.Phase.NEW) { "this watcher was already started; create a new ClusterWatcher to start again" }
            config.group?.let { g ->
                val extension =
                    GroupExtension.load()
                        ?: throw IllegalStateException(
                            "group '${g.name}' (ZooKeeper ${g.connect}) needs the cluster-zookeeper module on the watcher's classpath"
                        )
                extension.check(g)
                groupExtension = extension
            }
            hub = IpcHub(config.startTimeout.toMillis(), config.maxFrameSize)
            provider.adopt(SocketActivation.adopt(log))
            val launcher = Launcher(config)
            spawner =
                Spawner(
                    config,
                    hub,
                    launcher,
                    provider,
                    messageHub,
                    scope,
                    clusterSize = { slots.size },
                    onChange = ::changed,
                    onLaunched = { w ->
                        w.requestLimit = recycling.requestLimit()
                        live[w.id] = w
                        emit(ClusterEvent.WorkerStarted(w))
                    },
                    onEnded = ::ended,
                    onExit = ::exited,
                    ops = workerOps,
                    balancer = balancer,
                )
            config.metricsAddress?.let { address ->
                val extension =
                    dev.kcluster.internal.metrics.MetricsExtension.load()
                        ?: run {
                            hub.close()
                            throw IllegalStateException("metrics at $address need the cluster-metrics module on the classpath")
                        }
                metricsEndpoint =
                    try {
                        extension.startWatcher(this, address)
                    } catch (e: Exception) {
                        hub.close()
                        throw IllegalStateException("cannot serve metrics at ${address.hostString}:${address.port}: ${e.message ?: e}", e)
                    }
                spawner.metrics = metricsEndpoint
            }
            // If this JVM ends without stop() (SIGTERM, System.exit), still remove the IPC directory;
            // the workers see their connection close and exit by themselves.
            Runtime.getRuntime().addShutdownHook(exitHook)
            setPhase(ClusterState.Phase.STARTING)
            heartbeat =
                scope.launch {
                    HeartbeatMonitor(config.heartbeatInterval.toMillis(), config.heartbeatTimeout.toNanos(), live::values, hangs::hung)
                        .run()
                }
            try {
                scaling().grow(count)
            } catch (e: ClusterException) {
                val failed = ClusterException("worker failed to start: ${e.message?.substringAfter("failed to start: ")}", e.reason)
                failure = failed
                scope.launch { stop() }
                throw failed
            }
            setPhase(ClusterState.Phase.RUNNING)
            log.info("{} workers ready", count)
            groupExtension?.let { extension ->
                try {
                    groupSession = extension.join(this, config.group!!, groupHost)
                } catch (e: Exception) {
                    failure = e
                    scope.launch { stop() }
                    throw e
                }
            }
            provider.unusedActivated().forEach { log.warn("socket activation: {} is not used by any worker", it) }
            standbys.fill()
            // The class-data archive's training run, once, in the background (see ArchiveTrainer).
            launcher.trainer(count)?.let { t -> scope.launch { t.train() } }
            if (recycling.enabled) scope.launch { recycling.run() }
        }
    }

    private fun scaling() = Scaling(spawner, stopper, config.readyTimeout.toMillis(), ::addSlot, ::removeSlot)

    private fun addSlot(): Slot {
        val used = slots.map { it.index }.toSet()
        return Slot(generateSequence(1) { it + 1 }.first { it !in used }).also {
            slots += it
            publish()
        }
    }

    private fun removeSlot(slot: Slot) {
        slots.remove(slot)
        policy.forget(slot.index)
        publish()
    }

    /**
     * Publishes [e] without blocking the caller (often an IPC reader thread). A subscriber more than [EVENT_BUFFER] events behind makes
     * this drop [e]: counted, with one warning per episode.
     */
    private fun emit(e: ClusterEvent) {
        if (eventFlow.tryEmit(e)) return
        if (droppedEvents.getAndIncrement() == 0L || droppedEvents.get() % 10_000 == 0L) {
            log.warn(
                "dropped {} cluster events: a subscriber of ClusterWatcher.events is more than {} events behind",
                droppedEvents.get(),
                EVENT_BUFFER,
            )
        }
    }

    private fun setPhase(p: ClusterState.Phase) {
        phase = p
        publish()
    }

    private fun publish() {
        val ws =
            (slots.snapshot().sortedBy { it.index }.flatMap { s -> listOfNotNull(s.worker, s.successor) } + standbys.members)
                .filter { it.life !is Life.Exited }
                .map { w -> WorkerStatus(w.slot, w.id, w.pid, w.state, w.restarts, w.startedAt) }
        stateFlow.value = ClusterState(phase, ws)
        if (groupSession == null) hostsFlow.value = listOf(localMember())
    }

    /** This watcher as a one-host group (the [hosts] of a watcher without a group, or before it joined). */
    private fun localMember(): GroupMember {
        val s = stateFlow.value
        val host = config.group?.hostName ?: LocalHost.name
        return GroupMember(
            id = "$host-${LocalHost.pid}",
            host = host,
            pid = LocalHost.pid,
            phase = s.phase.name,
            workers = s.workers.map { MemberWorker(it.slot, it.id, it.pid, it.state.name) },
            addresses = provider.addresses.map { "${it.hostString}:${it.port}" },
            startedAtMillis = createdAtMillis,
        )
    }

    private val groupHost =
        object : GroupHost {
            override fun hosts(members: List<GroupMember>) {
                hostsFlow.value = members.ifEmpty { listOf(localMember()) }
            }

            override fun deliver(type: String, body: ByteArray) {
                val reached = broadcast(Message.raw(type, body))
                log.debug("cluster-wide broadcast of {} delivered to {} workers", type, reached)
            }

            override suspend fun restartHost(): RestartResult = hostRestart?.invoke() ?: restart()
        }

    private fun changed(w: RealWorker, before: Life, after: Life) {
        if (after === Life.Ready && before !== Life.Ready) {
            // A standby promoted the moment its predecessor's process was gone may be READY before that exit is reported.
            val first = w.predecessorExit?.takeIf { !it.isCompleted }
            if (first == null) emit(ClusterEvent.WorkerReady(w))
            else scope.launch { withTimeoutOrNull(5_000) { runCatching { first.await() } }.also { emit(ClusterEvent.WorkerReady(w)) } }
        }
        publish()
    }

    private val running
        get() = phase == ClusterState.Phase.RUNNING || phase == ClusterState.Phase.STARTING

    /**
     * A worker's process is gone, before its last frames are read and its exit reported ([exited]). A crashed worker that the restart
     * policy respawns at once is replaced by a warm standby now: its held LISTENs are answered a few milliseconds sooner. The decision is
     * kept on the worker for [exited], which announces both.
     */
    private fun ended(w: RealWorker) {
        val slot = w.place ?: return
        // Not a crash (a stop, a restart, Cluster.stop()) or not the watcher's to replace.
        if (!holds(slot, w) || handledElsewhere(slot, w) || (w.life !is Life.Gone && w.life !is Life.Unresponsive)) return
        val d = policy.onCrash(slot.index, System.nanoTime() - w.startedNanos)
        w.crashDecision = d
        if (d == RestartPolicy.Decision.Respawn(0)) w.replacedBy = promoteStandby(slot, w)
    }

    /** Whether [slot], still in the cluster, is held by [w] while the cluster runs. */
    private fun holds(slot: Slot, w: RealWorker) = running && slot.worker === w && slot in slots

    /**
     * Whether someone else handles the failure of [w]: a rolling restart starting the slot's successor (it takes over), or start() or
     * scale() waiting for this worker (it reports the failure).
     */
    private fun handledElsewhere(slot: Slot, w: RealWorker) = slot.successor != null || (w.origin != Origin.RESPAWN && !w.ready.isCompleted)

    /** A warm standby, promoted into [slot] in place of [old]; null when there is none or its promotion failed (then it is stopped). */
    private fun promoteStandby(slot: Slot, old: RealWorker): RealWorker? {
        val standby = standbys.take() ?: return null
        if (runCatching { standby.promote(slot, old) }.isFailure) {
            scope.launch { stopper.stop(standby) }
            return null
        }
        slot.worker = standby
        return standby
    }

    private suspend fun exited(w: RealWorker, exited: Life.Exited) {
        live.remove(w.id)
        val reason = exited.reason
        if (reason.expected) log.info("worker {} (pid {}) exited: {}", w.id, w.pid, reason)
        else log.warn("worker {} (pid {}) crashed: {}", w.id, w.pid, reason)
        emit(ClusterEvent.WorkerExited(w, reason))
        publish()
        val slot = w.place
        if (slot == null) {
            // A standby: replaced when it crashed, through the same policy (a standby crash loop stops the cluster too).
            standbys.remove(w)
            if (running && !reason.expected) scope.launch { replaceStandby(w, reason) }
            return
        }
        val early = w.replacedBy
        if (early != null) {
            if (slot.worker === early) promoted(w, early, 0)
            return
        }
        if (!holds(slot, w)) return
        when {
            exited.stoppedItself -> {
                removeSlot(slot)
                if (slots.isEmpty()) scope.launch { stop() }
            }
            // Stopped on purpose: whoever asked (restart, scale, stop) handles the slot.
            reason.expected -> Unit
            handledElsewhere(slot, w) -> Unit
            else -> scope.launch { respawn(slot, w, reason, w.crashDecision) }
        }
    }

    private suspend fun replaceStandby(old: RealWorker, reason: dev.kcluster.ExitReason) {
        when (val d = policy.onCrash(STANDBY_SLOT, System.nanoTime() - old.startedNanos)) {
            is RestartPolicy.Decision.GiveUp -> giveUp(old, reason)
            is RestartPolicy.Decision.Respawn -> {
                if (d.delayMillis > 0) delay(d.delayMillis)
                standbys.launch()
            }
        }
    }

    private fun giveUp(old: RealWorker, reason: dev.kcluster.ExitReason) {
        val e =
            ClusterException(
                "workers crashed more than ${config.maxRestarts} times within ${config.restartWindow.toSeconds()} s; last: worker ${old.id} $reason",
                reason,
            )
        log.error("stopping: {}", e.message)
        failure = e
        scope.launch { stop() }
    }

    /** [decided]: the policy's decision, when [ended] took it already. */
    private suspend fun respawn(slot: Slot, old: RealWorker, reason: dev.kcluster.ExitReason, decided: RestartPolicy.Decision? = null) {
        when (val d = decided ?: policy.onCrash(slot.index, System.nanoTime() - old.startedNanos)) {
            is RestartPolicy.Decision.GiveUp -> giveUp(old, reason)
            is RestartPolicy.Decision.Respawn -> {
                if (d.delayMillis > 0) delay(d.delayMillis)
                if (!holds(slot, old)) return
                promoteStandby(slot, old)?.let { standby ->
                    promoted(old, standby, d.delayMillis)
                    return
                }
                val w =
                    try {
                        spawner.launch(slot, old.restarts + 1, Origin.RESPAWN)
                    } catch (e: Exception) {
                        log.error("cannot respawn worker {}: {}", old.id, e.message)
                        return
                    }
                slot.worker = w
                publish()
                log.info("worker {} replaced crashed worker {} after {} ms", w.id, old.id, d.delayMillis)
                emit(ClusterEvent.WorkerRespawned(old, w, d.delayMillis))
            }
        }
    }

    /** Announces that [standby] was promoted in place of [old], and starts the next standby once it serves. */
    private fun promoted(old: RealWorker, standby: RealWorker, delayMillis: Long) {
        publish()
        log.info("standby worker {} promoted to replace crashed worker {} after {} ms", standby.id, old.id, delayMillis)
        emit(ClusterEvent.WorkerRespawned(old, standby, delayMillis))
        // The next standby starts once the promoted one serves: on few cores, a JVM starting beside it would slow its first answers,
        // which are what a promotion is for.
        scope.launch {
            withTimeoutOrNull(config.startTimeout.toMillis()) {
                select {
                    standby.ready.onAwait {}
                    standby.exit.onAwait {}
                }
            }
            standbys.launch()
        }
    }

    override suspend fun stop() {
        withContext(NonCancellable) {
            val first =
                synchronized(this@RealClusterWatcher) {
                    when (phase) {
                        ClusterState.Phase.NEW -> {
                            setPhase(ClusterState.Phase.STOPPED)
                            null
                        }
                        ClusterState.Phase.STARTING,
                        ClusterState.Phase.RUNNING -> {
                            setPhase(ClusterState.Phase.STOPPING)
                            true
                        }
                        else -> false
                    }
                }
            if (first == null) {
                finish()
                return@withContext
            }
            if (!first) {
                stopDone.await()
                return@withContext
            }
            heartbeat?.cancel()
            // Leave the group first: leadership moves to another host before this one's workers go.
            groupSession?.let { g ->
                groupSession = null
                runCatching { g.close() }.onFailure { log.warn("leaving the group: {}", it.toString()) }
            }
            live.values.snapshot().map { w -> scope.async { stopper.stop(w) } }.awaitAll()
            hub.close()
            balancer?.close()
            provider.close()
            runCatching { Runtime.getRuntime().removeShutdownHook(exitHook) }
            setPhase(ClusterState.Phase.STOPPED)
            finish()
        }
    }

    private fun finish() {
        metricsEndpoint?.let { runCatching { it.close() } }
        messageHub.close()
        emit(ClusterEvent.Stopped(failure))
        terminated.complete(failure)
        stopDone.complete(Unit)
        scope.cancel()
    }

    private val workerOps =
        object : WorkerOps {
            override suspend fun restart(w: RealWorker): RestartResult =
                lifecycle.withLock {
                    check(phase == ClusterState.Phase.RUNNING) {
                        "cannot restart worker ${w.id}: the watcher is not running (it is ${phase.name.lowercase()})"
                    }
                    val slot =
                        w.place?.takeIf { it.worker === w && it in slots }
                            ?: throw IllegalStateException(
                                "worker ${w.id} holds no slot (${if (w.place == null) "a standby" else "gone"}); only a slot's worker can be restarted"
                            )
                    rolling().run(listOf(slot))
                }

            override suspend fun stop(w: RealWorker) {
                val last =
                    lifecycle.withLock {
                        check(phase == ClusterState.Phase.RUNNING) { "cannot stop worker ${w.id}: the watcher is not running" }
                        val slot = w.place?.takeIf { it.worker === w && it in slots }
                        if (slot == null) {
                            standbys.remove(w)
                            stopper.stop(w)
                            return
                        }
                        scaling().shrink(listOf(slot))
                        log.info("worker {} stopped on request; {} workers left", w.id, slots.size)
                        slots.isEmpty()
                    }
                if (last) stop()
            }
        }

    /** Replaces [w], past a recycling limit, like a one-worker rolling restart; never concurrent with another restart. */
    private suspend fun recycle(w: RealWorker, reason: String) =
        lifecycle.withLock {
            val slot = w.place?.takeIf { it.worker === w && it in slots && phase == ClusterState.Phase.RUNNING } ?: return@withLock
            val load = w.load
            log.info(
                "recycling worker {} (pid {}): {} (requests {}, heap after GC {} bytes, rss {} bytes)",
                w.id,
                w.pid,
                reason,
                load.requests,
                load.heapUsedAfterGc,
                load.rssBytes,
            )
            emit(ClusterEvent.WorkerRecycling(w, reason))
            w.reported = "recycled: $reason"
            val result = rolling().run(listOf(slot))
            if (result.rolledBack) {
                w.reported = null
                log.error("recycling worker {} rolled back: {}", w.id, result.reason)
            }
        }

    private fun rolling() =
        RollingRestart(
            spawner,
            stopper,
            config.readyTimeout.toMillis(),
            log,
            stillRunning = { phase == ClusterState.Phase.RUNNING },
            onReplaced = { _, _ -> publish() },
        )

    override suspend fun restart(): RestartResult =
        lifecycle.withLock {
            check(phase == ClusterState.Phase.RUNNING) { "cannot restart a watcher that is not running (it is ${phase.name.lowercase()})" }
            emit(ClusterEvent.RestartStarted(slots.size))
            // Standbys run the old code: they go first, and new ones are started once the workers are replaced.
            standbys.drain().map { s -> scope.async { stopper.stop(s) } }.awaitAll()
            val result = rolling().run(slots.snapshot().sortedBy { it.index })
            // A worker that crashed while its successor was starting, when that successor then failed, is respawned now.
            for (slot in slots) {
                val w = slot.worker ?: continue
                val gone = w.life as? Life.Exited ?: continue
                if (!gone.reason.expected && running) scope.launch { respawn(slot, w, gone.reason) }
            }
            standbys.fill()
            emit(ClusterEvent.RestartFinished(result))
            result
        }

    override suspend fun scale(count: Int) {
        require(count >= 1) { "a cluster needs at least 1 worker, got $count" }
        lifecycle.withLock {
            check(phase == ClusterState.Phase.RUNNING) { "cannot scale a watcher that is not running" }
            val ordered = slots.snapshot().sortedBy { it.index }
            if (count > ordered.size) scaling().grow(count - ordered.size) else scaling().shrink(ordered.drop(count))
            log.info("scaled to {} workers", count)
        }
    }

    override fun broadcast(message: Message): Int {
        val payload = message.toPayload()
        return workers.count { w -> runCatching { (w as RealWorker).conn?.send(FrameType.MESSAGE, payload) != null }.getOrDefault(false) }
    }

    override fun broadcast(message: Message, allHosts: Boolean): Int {
        if (!allHosts) return broadcast(message)
        val session = groupSession
        if (config.group != null && session == null) {
            throw IllegalStateException(
                "cannot broadcast to all hosts: this watcher has not joined group '${config.group?.name}' (it is ${phase.name.lowercase()})"
            )
        }
        broadcastLimit.take(message.size)
        if (session == null) {
            broadcast(message)
            return 1
        }
        return try {
            session.broadcast(message.type, message.rawBody())
        } catch (e: Exception) {
            broadcastLimit.refund() // not sent: it does not count
            throw e
        }
    }

    override suspend fun restartAllHosts(): List<HostRestart> {
        val session = groupSession
        if (config.group != null && session == null) {
            throw IllegalStateException(
                "cannot restart all hosts: this watcher has not joined group '${config.group?.name}' (it is ${phase.name.lowercase()})"
            )
        }
        if (session != null) return session.restartAllHosts()
        val r = groupHost.restartHost()
        val outcome = if (r.rolledBack) HostRestart.Outcome.ROLLED_BACK else HostRestart.Outcome.RESTARTED
        return listOf(HostRestart(localMember().id, outcome, r.replaced, r.reason))
    }

    override suspend fun awaitTermination(): Throwable? = terminated.await()

    override fun close() = runBlocking { stop() }

    private companion object {
        /** The restart policy's key for the standby pool. */
        const val STANDBY_SLOT = 0

        /** Events a slow subscriber may fall behind before new ones are dropped (see [emit]). */
        const val EVENT_BUFFER = 4096
    }
}
