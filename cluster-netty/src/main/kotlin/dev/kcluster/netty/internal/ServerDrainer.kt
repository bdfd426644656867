package dev.kcluster.netty.internal

import io.netty.channel.Channel
import io.netty.channel.ChannelHandler
import io.netty.channel.ChannelInitializer
import io.netty.channel.group.DefaultChannelGroup
import io.netty.util.concurrent.GlobalEventExecutor
import java.time.Duration
import java.util.concurrent.TimeUnit
import org.slf4j.LoggerFactory

/** Tracks a server's connections and drains them: see [drain]. One per server. */
internal class ServerDrainer(idleGrace: Duration, linger: Duration, private val drainTimeout: Duration) : DrainControl {
    private val log = LoggerFactory.getLogger("dev.kcluster.netty.Drain")
    val connections = DefaultChannelGroup("kcluster-connections", GlobalEventExecutor.INSTANCE)
    @Volatile override var draining: Boolean = false
    @Volatile override var startedAt: Long = 0
    override val idleGraceNanos: Long = idleGrace.toNanos()
    override val lingerNanos: Long = linger.toNanos()

    /** The child handler Netty gets: ours around the user's [user] initializer. */
    fun childHandler(user: ChannelHandler): ChannelHandler =
        object : ChannelInitializer<Channel>() {
            override fun initChannel(ch: Channel) {
                ch.pipeline().addLast(user)
                track(ch)
            }
        }

    /** Registers an accepted connection whose pipeline is already set up. */
    fun track(ch: Channel) {
        val state = installDrainHandlers(ch, this)
        connections.add(ch)
        if (draining) ch.eventLoop().execute { state.checkIdle() }
    }

    /**
     * Starts draining every connection (the server channel must already be closed), waits until they are all closed or [drainTimeout]
     * passes, then closes the rest. Blocking.
     *
     * @return how many connections had to be closed at the timeout.
     */
    fun drain(): Int {
        startedAt = System.nanoTime()
        draining = true
        val open = connections.size
        for (ch in snapshot(connections)) {
            val state = ch.attr(ConnectionState.KEY).get() ?: continue
            ch.eventLoop().execute {
                // A pipeline that installed its HTTP codec late (e.g. after ALPN) is found here.
                if (!state.http) runCatching { installHttpDrain(ch.pipeline(), state) }
                state.checkIdle()
            }
        }
        val deadline = startedAt + drainTimeout.toNanos()
        while (connections.isNotEmpty()) {
            val left = deadline - System.nanoTime()
            if (left <= 0) break
            val any = connections.firstOrNull() ?: break
            any.closeFuture().await(minOf(TimeUnit.NANOSECONDS.toMillis(left) + 1, 100))
        }
        val forced = connections.size
        if (forced > 0) {
            log.warn("drain timeout ({} ms): closing {} connections still open", drainTimeout.toMillis(), forced)
            connections.close().awaitUninterruptibly(2_000)
        }
        log.info("drained {} connections in {} ms", open, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt))
        return forced
    }
}

/**
 * The channels of [group] now, copied by iterating it. Not `toList()`: a connection can close between a concurrent set's `size` and its
 * iterator's `next()`, and `toList()` calls `next()` without `hasNext()` when the size is 1, which threw `NoSuchElementException` out of a
 * drain under a serial client (one connection open at a time), so the worker's `main` failed instead of draining.
 */
internal fun snapshot(group: Iterable<Channel>): List<Channel> {
    val copy = ArrayList<Channel>()
    for (ch in group) copy += ch
    return copy
}
