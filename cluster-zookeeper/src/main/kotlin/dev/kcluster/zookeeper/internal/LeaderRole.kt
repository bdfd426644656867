package dev.kcluster.zookeeper.internal

import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.InternalKclusterApi
import dev.kcluster.WorkerState
import dev.kcluster.grantLeadership
import dev.kcluster.revokeLeadership
import kotlinx.coroutines.flow.MutableStateFlow
import org.apache.curator.framework.CuratorFramework
import org.apache.curator.framework.recipes.leader.LeaderLatch
import org.apache.curator.framework.recipes.leader.LeaderLatchListener
import org.slf4j.Logger

/** The worker this watcher made the group's leader, and the epoch of that grant. */
internal data class Grant(val worker: ClusterWorker, val epoch: Long)

/**
 * One watcher's part in the group's leadership. The watcher joins a Curator [LeaderLatch] while it has a READY worker; holding the latch
 * and connected, it grants leadership to its lowest-slot READY worker under a fresh epoch. Every way of losing it (latch lost, connection
 * SUSPENDED, worker gone) revokes first.
 *
 * [reconcile] runs on the membership's own thread; [suspend] and the latch callbacks may run on Curator's threads. [lock] orders grants and
 * revokes, so no grant follows a suspension it did not see.
 */
@OptIn(InternalKclusterApi::class)
internal class LeaderRole(
    private val client: CuratorFramework,
    private val latchPath: String,
    private val memberId: String,
    private val watcher: ClusterWatcher,
    private val epochs: EpochCounter,
    private val log: Logger,
    private val changed: () -> Unit,
) {
    private val lock = Any()
    private var latch: LeaderLatch? = null
    @Volatile private var holdsLatch = false
    @Volatile private var connected = false
    @Volatile private var closed = false
    @Volatile
    var grant: Grant? = null
        private set

    val leading = MutableStateFlow(false)

    /** The connection is SUSPENDED or LOST: revoke now, before the session can expire and another host take over. */
    fun suspend(reason: String) =
        synchronized(lock) {
            connected = false
            revokeLocked(reason)
        }

    fun connected() {
        connected = true
    }

    /** Brings the grant in line with the latch, the connection and the workers' states. Blocking (ZooKeeper calls). */
    fun reconcile() {
        if (closed) return
        val ready = readyWorkers()
        if (connected && ready.isNotEmpty() && latch == null) openLatch()
        if (ready.isEmpty() && latch != null) closeLatch("no READY worker on this host")
        val current = grant
        val wanted =
            if (holdsLatch && connected) (current?.worker?.takeIf { w -> ready.any { it.id == w.id } } ?: ready.firstOrNull()) else null
        if (current != null && current.worker.id == wanted?.id) return
        if (current != null) synchronized(lock) { revokeLocked("worker ${current.worker.id} is no longer READY") }
        if (wanted == null) return
        val epoch =
            try {
                epochs.next()
            } catch (e: Exception) {
                log.warn("could not raise the group's epoch ({}); no leader until ZooKeeper answers", e.toString())
                return
            }
        val granted =
            synchronized(lock) {
                if (!holdsLatch || !connected || closed) return
                try {
                    wanted.grantLeadership(epoch)
                } catch (e: java.io.IOException) {
                    log.warn("could not grant leadership to worker {}: {}", wanted.id, e.message)
                    return
                }
                Grant(wanted, epoch).also { grant = it }
            }
        log.info("leadership granted to worker {} (pid {}), epoch {}", granted.worker.id, granted.worker.pid, granted.epoch)
        changed()
    }

    fun close() {
        closed = true
        synchronized(lock) { revokeLocked("leaving the group") }
        closeLatch(null)
    }

    private fun readyWorkers(): List<ClusterWorker> {
        val byId = watcher.workers.associateBy { it.id }
        return watcher.state.value.workers.filter { it.state == WorkerState.READY }.sortedBy { it.slot }.mapNotNull { byId[it.id] }
    }

    private fun revokeLocked(reason: String) {
        val g = grant ?: return
        grant = null
        runCatching { g.worker.revokeLeadership() } // a worker that is gone has lost it with its connection
        log.info("leadership of worker {} (epoch {}) revoked: {}", g.worker.id, g.epoch, reason)
        changed()
    }

    private fun openLatch() {
        val l = LeaderLatch(client, latchPath, memberId, LeaderLatch.CloseMode.NOTIFY_LEADER)
        l.addListener(
            object : LeaderLatchListener {
                override fun isLeader() {
                    holdsLatch = true
                    leading.value = true
                    log.info("this watcher leads group leadership ({})", latchPath)
                    changed()
                }

                override fun notLeader() {
                    holdsLatch = false
                    leading.value = false
                    synchronized(lock) { revokeLocked("this watcher no longer holds the leader latch") }
                }
            }
        )
        latch = l
        l.start()
    }

    private fun closeLatch(reason: String?) {
        val l = latch ?: return
        latch = null
        if (reason != null) log.info("leaving the leader election: {}", reason)
        runCatching { l.close() }
        holdsLatch = false
        leading.value = false
        synchronized(lock) { revokeLocked(reason ?: "leaving the group") }
    }
}
