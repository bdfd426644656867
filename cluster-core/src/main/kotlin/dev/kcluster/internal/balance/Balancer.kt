package dev.kcluster.internal.balance

import dev.kcluster.BalanceStrategy
import dev.kcluster.ListenOptions
import dev.kcluster.ServerSocketPipeProvider
import dev.kcluster.internal.ipc.Connection
import dev.kcluster.internal.ipc.FrameType
import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter
import dev.kcluster.internal.net.JdkChannels
import dev.kcluster.internal.net.closeQuietly
import dev.kcluster.internal.net.isV6
import dev.kcluster.internal.supervisor.Life
import dev.kcluster.internal.supervisor.RealWorker
import dev.kcluster.setNoDelay
import java.io.Closeable
import java.io.IOException
import java.net.InetSocketAddress
import java.nio.channels.ClosedSelectorException
import java.nio.channels.SelectionKey
import java.nio.channels.Selector
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import org.slf4j.LoggerFactory

/**
 * The watcher's balancer ([dev.kcluster.SocketMode.BALANCE]): one thread accepts on every listener the workers asked for, in batches (until
 * the accept queue is empty), and passes each connection to a READY worker of that listener (an ACCEPTED frame and the descriptor on the
 * worker's IPC connection, one `sendmsg` per worker and batch), then closes its own copy. A worker leaves the rotation before STOP reaches
 * it ([retire]); a send that fails (the worker died) is retried on another worker.
 */
internal class Balancer(private val strategy: BalanceStrategy, private val provider: ServerSocketPipeProvider) : Closeable {
    private class Listener(val id: Int, val channel: ServerSocketChannel) {
        val members = CopyOnWriteArrayList<Member>()
        val turn = AtomicInteger()
    }

    /** One worker as the balancer sees it; [lock] orders sends with [retire]. */
    private class Member(val worker: RealWorker, val conn: Connection) {
        val lock = Any()
        val sent = AtomicLong()
        @Volatile var retired = false
        /** Connections chosen for this worker and not yet sent; the accept thread's only. */
        val batch = Batch()
    }

    /** Accepted connections on their way to one worker, with their ACCEPTED payloads and descriptors. */
    private class Batch {
        val sockets = arrayOfNulls<SocketChannel>(Connection.MAX_FDS_PER_WRITE)
        val payloads = arrayOfNulls<ByteArray>(Connection.MAX_FDS_PER_WRITE)
        val fds = arrayOfNulls<java.io.FileDescriptor>(Connection.MAX_FDS_PER_WRITE)
        var count = 0

        fun add(socket: SocketChannel, payload: ByteArray) {
            sockets[count] = socket
            payloads[count] = payload
            fds[count] = JdkChannels.fdOf(socket)
            count++
        }

        fun clear() {
            sockets.fill(null, 0, count)
            payloads.fill(null, 0, count)
            fds.fill(null, 0, count)
            count = 0
        }
    }

    /** Members with a non-empty [Member.batch] in the current [acceptBatch]. */
    private val touched = ArrayList<Member>()

    /** Listeners with nobody to take their connections (looked at again shortly); the accept thread's only. */
    private val parked = ArrayList<SelectionKey>()

    private val log = LoggerFactory.getLogger(Balancer::class.java)
    private val listeners = ConcurrentHashMap<String, Listener>()
    private val byId = ConcurrentHashMap<Int, Listener>()
    private val members = ConcurrentHashMap<Int, Member>()
    private val nextId = AtomicInteger()
    private val selector: Selector = Selector.open()
    private val pendingRegistration = java.util.concurrent.ConcurrentLinkedQueue<Listener>()
    @Volatile private var closed = false
    private val thread =
        Thread(::acceptLoop, "kcluster-balancer").apply {
            isDaemon = true
            start()
        }

    /** Connections passed to workers so far. */
    val passed = AtomicLong()

    /** Serves LISTEN and UNLISTEN from [w]: addresses are bound once, and [w] joins their rotation. */
    fun serve(w: RealWorker, conn: Connection) {
        val member = Member(w, conn).also { members[w.id] = it }
        conn.on(FrameType.LISTEN) { frame -> answer(member, frame) }
        conn.on(FrameType.UNLISTEN) { frame ->
            val id = PayloadReader(frame.payload, "UNLISTEN").i32()
            byId[id]?.members?.remove(member)
        }
        conn.closed.whenComplete { _, _ -> forget(w) }
    }

    private fun answer(member: Member, frame: dev.kcluster.internal.ipc.Frame) {
        val r = PayloadReader(frame.payload, "LISTEN")
        val id = r.i32()
        val address = r.str()
        val options = ListenOptions(backlog = r.i32().coerceAtLeast(1), reuseAddress = r.bool(), tcpNoDelay = r.bool())
        val listener =
            try {
                val channel = provider.socketFor(address, options)
                listeners.computeIfAbsent((channel.localAddress as InetSocketAddress).toString()) {
                    if (options.tcpNoDelay) setNoDelay(channel)
                    Listener(nextId.incrementAndGet(), channel).also { l ->
                        byId[l.id] = l
                        pendingRegistration += l
                        selector.wakeup()
                    }
                }
            } catch (e: Exception) {
                log.warn("cannot listen on {} for worker {}: {}", address, member.worker.id, e.message)
                member.conn.send(
                    FrameType.LISTEN_ERR,
                    PayloadWriter().i32(id).str(e.javaClass.name).str(e.message ?: e.toString()).toByteArray(),
                )
                return
            }
        if (member !in listener.members) listener.members += member
        val local = listener.channel.localAddress as InetSocketAddress
        member.conn.send(
            FrameType.LISTEN_BALANCED,
            PayloadWriter().i32(id).i32(listener.id).bool(local.isV6).str(local.address.hostAddress).i32(local.port).toByteArray(),
        )
    }

    /**
     * Takes [w] out of every rotation; once this returns, no connection is being or will be sent to it, so a STOP sent next arrives after
     * the last connection it was given.
     */
    fun retire(w: RealWorker) {
        val m = members[w.id] ?: return
        m.retired = true
        synchronized(m.lock) {}
    }

    private fun forget(w: RealWorker) {
        val m = members.remove(w.id) ?: return
        m.retired = true
        listeners.values.forEach { it.members.remove(m) }
    }

    private fun routable(m: Member) = !m.retired && m.worker.life === Life.Ready && m.worker.place != null && m.conn.isOpen

    private fun acceptLoop() {
        try {
            while (!closed) {
                while (true) {
                    val l = pendingRegistration.poll() ?: break
                    l.channel.configureBlocking(false)
                    l.channel.register(selector, SelectionKey.OP_ACCEPT, l)
                }
                selector.select(1_000)
                val keys = selector.selectedKeys()
                for (key in keys) {
                    val l = key.attachment() as Listener
                    if (!key.isValid) continue
                    if (l.members.none(::routable)) {
                        // Nobody to take it: leave connections in the kernel's queue, look again shortly.
                        key.interestOps(0)
                        parked += key
                        continue
                    }
                    acceptBatch(l)
                }
                keys.clear()
                if (parked.isNotEmpty()) unpark()
            }
        } catch (_: ClosedSelectorException) {} catch (e: Throwable) {
            if (!closed) log.error("balancer accept loop failed", e)
        }
    }

    private fun unpark() {
        Thread.sleep(10)
        val it = parked.iterator()
        while (it.hasNext()) {
            val k = it.next()
            if (!k.isValid) {
                it.remove()
                continue
            }
            if ((k.attachment() as Listener).members.any(::routable)) {
                k.interestOps(SelectionKey.OP_ACCEPT)
                it.remove()
            }
        }
    }

    /**
     * Accepts what the queue holds (at most [MAX_BATCH]) and sends it on: each connection's worker is chosen as it is accepted, and each
     * worker's share goes out in one `sendmsg` (up to [Connection.MAX_FDS_PER_WRITE] descriptors), which halves the system calls per
     * connection on both ends under a burst of new connections.
     */
    private fun acceptBatch(l: Listener) {
        for (i in 0 until MAX_BATCH) {
            val socket =
                try {
                    l.channel.accept() ?: break
                } catch (e: IOException) {
                    if (!closed) log.warn("accept on {} failed: {}", l.channel, e.message)
                    break
                }
            val remote =
                try {
                    socket.remoteAddress as InetSocketAddress
                } catch (e: IOException) {
                    socket.closeQuietly()
                    continue
                }
            val payload = PayloadWriter(48).i32(l.id).bool(remote.isV6).str(remote.address.hostAddress).i32(remote.port).toByteArray()
            val m = choose(l, remote, emptySet())
            if (m == null) {
                socket.closeQuietly()
                continue
            }
            val b = m.batch
            if (b.count == 0) touched += m
            b.add(socket, payload)
            m.sent.incrementAndGet()
            if (b.count == Connection.MAX_FDS_PER_WRITE) sendBatch(l, m)
        }
        for (m in touched) if (m.batch.count > 0) sendBatch(l, m)
        touched.clear()
    }

    /** Sends [m]'s batch in one write; when [m] cannot take it (retired, gone), each connection goes to another worker on its own. */
    private fun sendBatch(l: Listener, m: Member) {
        val b = m.batch
        val n = b.count
        val sent =
            trySend(m) { c ->
                if (n == 1) c.send(FrameType.ACCEPTED, b.payloads[0]!!, b.fds[0])
                else c.sendWithFds(FrameType.ACCEPTED, b.payloads, b.fds, n)
            }
        if (sent) passed.addAndGet(n.toLong()) else m.sent.addAndGet(-n.toLong())
        for (i in 0 until n) {
            val socket = b.sockets[i]!!
            if (sent) socket.closeQuietly() else route(l, socket, b.payloads[i]!!, tried = setOf(m))
        }
        b.clear()
    }

    /** Sends [socket] to a chosen worker; on a failed send, to another; closes it when nobody can take it. */
    private fun route(l: Listener, socket: SocketChannel, payload: ByteArray, tried: Set<Member>) {
        val remote =
            try {
                socket.remoteAddress as InetSocketAddress
            } catch (e: IOException) {
                socket.closeQuietly()
                return
            }
        val fd = JdkChannels.fdOf(socket)
        val excluded = HashSet(tried)
        while (true) {
            val m = choose(l, remote, excluded) ?: break
            excluded += m
            if (trySend(m) { it.send(FrameType.ACCEPTED, payload, fd) }) {
                m.sent.incrementAndGet()
                passed.incrementAndGet()
                socket.closeQuietly()
                return
            }
        }
        socket.closeQuietly()
    }

    /** Sends to [m] with [send], under its lock and only while it is routable (see [retire]); false when it was not or the send failed. */
    private inline fun trySend(m: Member, send: (Connection) -> Unit): Boolean =
        synchronized(m.lock) {
            routable(m) &&
                try {
                    send(m.conn)
                    true
                } catch (e: IOException) {
                    false
                }
        }

    private fun choose(l: Listener, remote: InetSocketAddress, tried: Set<Member>): Member? {
        val candidates = l.members.filter { it !in tried && routable(it) }
        if (candidates.isEmpty()) return null
        return when (strategy) {
            BalanceStrategy.ROUND_ROBIN -> candidates[Math.floorMod(l.turn.getAndIncrement(), candidates.size)]
            BalanceStrategy.LEAST_CONNECTIONS ->
                candidates.minBy { m ->
                    val r = m.worker.reportedLoad
                    (r?.connections?.toLong() ?: 0L) + (m.sent.get() - (r?.received ?: 0L)).coerceAtLeast(0)
                }
            BalanceStrategy.IP_HASH -> {
                val key = remote.address.address
                candidates.maxBy { m -> Rendezvous.weight(key, m.worker.slot) }
            }
        }
    }

    override fun close() {
        closed = true
        runCatching { selector.close() }
        thread.join(2_000)
    }

    private companion object {
        const val MAX_BATCH = 256
    }
}

/** Rendezvous (highest random weight) hashing: a client address's weight for each slot. */
internal object Rendezvous {
    fun weight(key: ByteArray, slot: Int): Long {
        var h = -0x3c9d3c7c3b6bL xor (slot.toLong() * -0x61c8864680b583ebL)
        for (b in key) h = (h xor (b.toLong() and 0xff)) * 0x100000001b3L
        // final avalanche (splitmix64)
        h = (h xor (h ushr 30)) * -0x40a7b892e31b1a47L
        h = (h xor (h ushr 27)) * -0x6b2fb644ecceee15L
        return h xor (h ushr 31)
    }
}
