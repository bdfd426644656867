package dev.kcluster.zookeeper.internal

import java.io.ByteArrayOutputStream
import java.io.DataInputStream
import java.io.DataOutputStream
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import org.apache.curator.framework.CuratorFramework
import org.apache.curator.framework.api.CuratorWatcher
import org.apache.zookeeper.CreateMode
import org.apache.zookeeper.KeeperException
import org.slf4j.Logger

/**
 * Cluster-wide broadcasts: one persistent-sequential node per broadcast, `/kcluster/<group>/broadcasts/b-<seq>` (sender, type name, body),
 * and a children watch on every member. Each member delivers every node above the highest sequence it has seen, in order, once; the first
 * scan after joining only records that sequence, so a member that joins later replays nothing. [clean] (run by one member, the leading
 * watcher) deletes nodes older than [MAX_AGE_MILLIS].
 */
internal class Broadcasts(
    private val client: CuratorFramework,
    private val path: String,
    private val memberId: String,
    private val log: Logger,
    private val deliver: (type: String, body: ByteArray) -> Unit,
) : AutoCloseable {
    private val thread: ScheduledExecutorService =
        Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "kcluster-zookeeper-broadcasts").apply { isDaemon = true } }
    private val pending = AtomicBoolean()
    @Volatile private var lastSeen = -1L
    @Volatile private var started = false
    @Volatile private var closed = false
    private val watch = CuratorWatcher { schedule() }

    /** The first scan, on this thread: records the highest sequence so far (called once ZooKeeper first answers). */
    @Synchronized
    fun start() {
        if (started) return
        val names = client.children.usingWatcher(watch).forPath(path)
        lastSeen = names.mapNotNull(::sequenceOf).maxOrNull() ?: -1
        started = true
    }

    /** Connected again: look for broadcasts missed meanwhile and watch again (before [start], the first scan does it). */
    fun connected() {
        if (started) schedule()
    }

    fun send(type: String, body: ByteArray) {
        client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("$path/b-", encode(type, body))
    }

    /** Deletes broadcasts older than [MAX_AGE_MILLIS] (by their creation time on the server). */
    fun clean(now: Long = System.currentTimeMillis()) {
        for (name in client.children.forPath(path)) {
            val stat = client.checkExists().forPath("$path/$name") ?: continue
            if (now - stat.ctime > MAX_AGE_MILLIS) {
                try {
                    client.delete().forPath("$path/$name")
                } catch (_: KeeperException.NoNodeException) {}
            }
        }
    }

    private fun schedule() {
        if (closed || !pending.compareAndSet(false, true)) return
        thread.execute {
            pending.set(false)
            try {
                if (!started) start() else scan()
            } catch (e: Exception) {
                if (closed) return@execute
                log.warn("cluster-wide broadcasts: {}; trying again", e.toString())
                thread.schedule(Runnable { schedule() }, 1, TimeUnit.SECONDS)
            }
        }
    }

    @Synchronized
    private fun scan() {
        val names = client.children.usingWatcher(watch).forPath(path)
        for ((seq, name) in names.mapNotNull { n -> sequenceOf(n)?.let { it to n } }.sortedBy { it.first }) {
            if (seq <= lastSeen) continue
            val data =
                try {
                    client.data.forPath("$path/$name")
                } catch (_: KeeperException.NoNodeException) {
                    null // cleaned up meanwhile
                }
            lastSeen = seq
            if (data == null || closed) continue
            try {
                val (sender, type, body) = decode(data)
                log.debug("cluster-wide broadcast {} of {} from {}", name, type, sender)
                deliver(type, body)
            } catch (e: Exception) {
                log.warn("cluster-wide broadcast {} not delivered: {}", name, e.toString())
            }
        }
    }

    private fun encode(type: String, body: ByteArray): ByteArray {
        val out = ByteArrayOutputStream(body.size + type.length + memberId.length + 8)
        DataOutputStream(out).use { d ->
            d.writeByte(VERSION)
            d.writeUTF(memberId)
            d.writeUTF(type)
            d.write(body)
        }
        return out.toByteArray()
    }

    private fun decode(data: ByteArray): Triple<String, String, ByteArray> =
        DataInputStream(data.inputStream()).use { d ->
            val v = d.readByte().toInt()
            require(v == VERSION) { "unknown broadcast format $v" }
            Triple(d.readUTF(), d.readUTF(), d.readAllBytes())
        }

    override fun close() {
        closed = true
        thread.shutdownNow()
    }

    companion object {
        private const val VERSION = 1

        /** How long a broadcast node stays in ZooKeeper: a member cut off longer than this misses it. */
        const val MAX_AGE_MILLIS = 5 * 60_000L

        /** `b-0000000042` → 42; null for another name. */
        fun sequenceOf(name: String): Long? = name.substringAfterLast('-', "").toLongOrNull()
    }
}
