package dev.kcluster.zookeeper.internal

import dev.kcluster.HostRestart
import dev.kcluster.RestartResult
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import kotlinx.serialization.Serializable
import kotlinx.serialization.json.Json
import org.apache.curator.framework.CuratorFramework
import org.apache.curator.framework.api.CuratorWatcher
import org.apache.curator.framework.recipes.locks.InterProcessMutex
import org.apache.zookeeper.CreateMode
import org.apache.zookeeper.KeeperException
import org.apache.zookeeper.data.Stat
import org.slf4j.Logger

/** A group restart: `/kcluster/<group>/reloads/run-<seq>`, naming the members it covers. */
@Serializable internal data class RunNode(val initiator: String, val members: List<String>, val createdAtMillis: Long)

/** One member's part of a run: `run-<seq>/<member id>`. */
@Serializable internal data class ResultNode(val outcome: String, val replaced: Int = 0, val reason: String? = null)

/**
 * Restarts of every host, one at a time. The initiator writes a run node listing the members at that moment, sorted by id; every member
 * watches `reloads/` and, for each new run listing it, waits until the members before it in the list have a result or have left the group,
 * takes the group's Curator [InterProcessMutex] (`reload-lock`, an ephemeral node, so a dead host releases it with its session), restarts
 * itself unless a result already under the run says ROLLED_BACK (then it writes SKIPPED), writes its result and releases the lock. The
 * initiator waits until every listed member has a result or has left the group (GONE). As with broadcasts, a member's first scan only
 * records the highest run so far: it takes part in no older run.
 */
internal class Reloads(
    private val client: CuratorFramework,
    private val paths: GroupPaths,
    private val memberId: String,
    private val log: Logger,
    private val members: StateFlow<*>,
    private val restartHost: suspend () -> RestartResult,
) : AutoCloseable {
    private val json = Json { ignoreUnknownKeys = true }
    private val thread: ScheduledExecutorService =
        Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "kcluster-zookeeper-reloads").apply { isDaemon = true } }
    private val pending = AtomicBoolean()
    @Volatile private var lastSeen = -1L
    @Volatile private var started = false
    @Volatile private var closed = false
    private val watch = CuratorWatcher { schedule() }

    @Synchronized
    fun start() {
        if (started) return
        lastSeen = client.children.usingWatcher(watch).forPath(paths.reloads).mapNotNull(Broadcasts::sequenceOf).maxOrNull() ?: -1
        started = true
    }

    /** Connected again: look for runs missed meanwhile and watch again (before [start], the first scan does it). */
    fun connected() {
        if (started) schedule()
    }

    /** Starts a run and waits for every member's result (on an IO thread; the roll itself goes on without this caller). */
    suspend fun restartAll(): List<HostRestart> =
        withContext(Dispatchers.IO) {
            val listed = client.children.forPath(paths.members).sorted()
            val node = RunNode(memberId, listed, System.currentTimeMillis())
            val path =
                client
                    .create()
                    .creatingParentsIfNeeded()
                    .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                    .forPath("${paths.reloads}/run-", json.encodeToString(RunNode.serializer(), node).encodeToByteArray())
            val run = path.substringAfterLast('/')
            log.info("group restart {}: {} hosts, one at a time ({})", run, listed.size, listed.joinToString(", "))
            val changed = Channel<Unit>(Channel.CONFLATED)
            val watchResults = CuratorWatcher { changed.trySend(Unit) }
            coroutineScope {
                val follow = launch { members.collect { changed.trySend(Unit) } }
                try {
                    var outcome: List<HostRestart>? = null
                    while (outcome == null) {
                        val results = results(path, watchResults)
                        val live = client.children.forPath(paths.members).toSet()
                        if (listed.all { it in results || it !in live }) {
                            val done = results.values.sortedBy { it.first }.map { it.second }
                            val gone =
                                listed
                                    .filter { it !in results }
                                    .map { HostRestart(it, HostRestart.Outcome.GONE, 0, "it left the group before it reported") }
                            outcome = done + gone
                        } else {
                            withTimeoutOrNull(CHECK_MILLIS) { changed.receive() }
                        }
                    }
                    log.info("group restart {} done: {}", run, outcome.joinToString("; "))
                    outcome
                } finally {
                    follow.cancel()
                }
            }
        }

    /** The results under [run] by member, with the order they were written in (czxid). */
    private fun results(run: String, watcher: CuratorWatcher? = null): Map<String, Pair<Long, HostRestart>> {
        val names = if (watcher != null) client.children.usingWatcher(watcher).forPath(run) else client.children.forPath(run)
        return names
            .mapNotNull { m ->
                val stat = Stat()
                val data =
                    try {
                        client.data.storingStatIn(stat).forPath("$run/$m")
                    } catch (_: KeeperException.NoNodeException) {
                        return@mapNotNull null
                    }
                val r =
                    runCatching { json.decodeFromString(ResultNode.serializer(), data.decodeToString()) }.getOrNull()
                        ?: return@mapNotNull null
                val outcome = runCatching { HostRestart.Outcome.valueOf(r.outcome) }.getOrDefault(HostRestart.Outcome.ROLLED_BACK)
                m to (stat.czxid to HostRestart(m, outcome, r.replaced, r.reason))
            }
            .toMap()
    }

    private fun schedule() {
        if (closed || !pending.compareAndSet(false, true)) return
        thread.execute {
            pending.set(false)
            try {
                if (!started) start() else scan()
            } catch (e: Exception) {
                if (closed) return@execute
                log.warn("group restarts: {}; trying again", e.toString())
                thread.schedule(Runnable { schedule() }, 1, TimeUnit.SECONDS)
            }
        }
    }

    @Synchronized
    private fun scan() {
        val names = client.children.usingWatcher(watch).forPath(paths.reloads)
        for ((seq, name) in names.mapNotNull { n -> Broadcasts.sequenceOf(n)?.let { it to n } }.sortedBy { it.first }) {
            if (seq <= lastSeen || closed) continue
            lastSeen = seq
            val path = "${paths.reloads}/$name"
            val node =
                try {
                    json.decodeFromString(RunNode.serializer(), client.data.forPath(path).decodeToString())
                } catch (e: Exception) {
                    continue
                }
            if (memberId in node.members) takePart(name, path, node.members.takeWhile { it != memberId })
        }
    }

    /**
     * This host's turn in run [name], after the members listed before it ([before]) have a result or have left: under the lock, restart (or
     * skip after a rollback) and write the result.
     */
    private fun takePart(name: String, path: String, before: List<String>) {
        val turn = java.util.concurrent.Semaphore(0)
        val wake = CuratorWatcher { turn.release() }
        while (true) {
            if (closed || client.checkExists().forPath(path) == null) return
            val results = results(path, wake)
            val live = client.children.usingWatcher(wake).forPath(paths.members).toSet()
            if (before.all { it in results || it !in live }) break
            turn.tryAcquire(CHECK_MILLIS, TimeUnit.MILLISECONDS)
        }
        val lock = InterProcessMutex(client, paths.reloadLock)
        while (!lock.acquire(LOCK_WAIT_SECONDS, TimeUnit.SECONDS)) {
            if (closed || client.checkExists().forPath(path) == null) return
        }
        try {
            val failed = results(path).values.map { it.second }.firstOrNull { it.outcome == HostRestart.Outcome.ROLLED_BACK }
            val result =
                if (failed != null) {
                    log.info("group restart {}: skipped, {} rolled back", name, failed.member)
                    ResultNode(HostRestart.Outcome.SKIPPED.name, 0, "${failed.member} rolled back")
                } else {
                    log.info("group restart {}: this host holds the reload lock; rolling restart", name)
                    val r =
                        try {
                            runBlocking { restartHost() }
                        } catch (e: Exception) {
                            RestartResult(0, true, e.message ?: e.toString())
                        }
                    if (r.rolledBack) log.error("group restart {}: this host rolled back: {}", name, r.reason)
                    else log.info("group restart {}: this host restarted, {} replaced; releasing the reload lock", name, r.replaced)
                    ResultNode(
                        if (r.rolledBack) HostRestart.Outcome.ROLLED_BACK.name else HostRestart.Outcome.RESTARTED.name,
                        r.replaced,
                        r.reason,
                    )
                }
            client.create().forPath("$path/$memberId", json.encodeToString(ResultNode.serializer(), result).encodeToByteArray())
        } finally {
            runCatching { lock.release() }
        }
    }

    /** Deletes runs older than [MAX_AGE_MILLIS], with their results. */
    fun clean(now: Long = System.currentTimeMillis()) {
        for (name in client.children.forPath(paths.reloads)) {
            val stat = client.checkExists().forPath("${paths.reloads}/$name") ?: continue
            if (now - stat.ctime > MAX_AGE_MILLIS) {
                try {
                    client.delete().deletingChildrenIfNeeded().forPath("${paths.reloads}/$name")
                } catch (_: KeeperException.NoNodeException) {}
            }
        }
    }

    override fun close() {
        closed = true
        thread.shutdownNow()
    }

    companion object {
        /** How long run nodes stay in ZooKeeper. */
        const val MAX_AGE_MILLIS = 60 * 60_000L
        private const val CHECK_MILLIS = 2_000L
        private const val LOCK_WAIT_SECONDS = 5L
    }
}
