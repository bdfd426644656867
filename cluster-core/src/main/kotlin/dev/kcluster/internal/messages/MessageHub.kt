package dev.kcluster.internal.messages

import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import org.slf4j.Logger

/**
 * The one fan-out of messages between a connection and its consumers, on both sides of the IPC (the watcher's `messages`, a worker's
 * `incoming`).
 * - Every active collector of [flow] gets every message offered after it started collecting.
 * - While nobody collects, messages wait in a buffer for the first collector, which gets them first. A collector that ends (e.g. `first {
 *   }`) while it is the only one hands what it had not taken back to that buffer, so `first { }` followed by `collect { }` loses nothing.
 * - [offer] never blocks (it runs on the IPC reader thread, which also answers heartbeats). Each buffer holds at most [maxCount] messages
 *   and [maxBytes] bytes; a message that does not fit is dropped, counted in [dropped], and the first drop of an episode logs one warning
 *   (a second warning only after the buffer has had room again).
 * - [close] ends every collector once it has taken what is buffered for it.
 */
internal class MessageHub<T : Any>(
    private val maxCount: Int,
    private val maxBytes: Long,
    private val log: Logger,
    private val what: String,
    private val sizeOf: (T) -> Int,
) {
    private val lock = Any()
    private val pending = Buffer()
    private val subscribers = ArrayList<Buffer>()
    private var closed = false
    private val droppedCount = AtomicLong()
    private var warned = false

    /** Messages dropped because a buffer was full, since this hub was made. */
    val dropped: Long
        get() = droppedCount.get()

    /** True while at least one collector is active. */
    val hasCollectors: Boolean
        get() = synchronized(lock) { subscribers.isNotEmpty() }

    private inner class Buffer {
        val items = ArrayDeque<T>()
        var bytes = 0L
        val signal = Channel<Unit>(Channel.CONFLATED)

        fun tryAdd(m: T, size: Int): Boolean {
            if (items.size >= maxCount || bytes + size > maxBytes) return false
            items.addLast(m)
            bytes += size
            signal.trySend(Unit)
            return true
        }

        fun poll(): T? = items.removeFirstOrNull()?.also { bytes -= sizeOf(it) }
    }

    /** Hands [message] to every collector, or buffers it while there is none; never blocks. */
    fun offer(message: T) {
        val size = sizeOf(message)
        var drops = 0
        var noCollector = false
        synchronized(lock) {
            if (closed) return
            if (subscribers.isEmpty()) {
                if (!pending.tryAdd(message, size)) {
                    drops++
                    noCollector = true
                }
            } else {
                for (s in subscribers) if (!s.tryAdd(message, size)) drops++
            }
            if (drops == 0) {
                warned = false
                return
            }
            droppedCount.addAndGet(drops.toLong())
            if (warned) return
            warned = true
        }
        if (noCollector) {
            log.warn(
                "dropping {}: nothing consumes them and {} are already waiting (limit {} messages, {} bytes); {} dropped so far",
                what,
                maxCount,
                maxCount,
                maxBytes,
                dropped,
            )
        } else {
            log.warn(
                "dropping {}: a consumer is too slow and its buffer is full (limit {} messages, {} bytes); {} dropped so far",
                what,
                maxCount,
                maxBytes,
                dropped,
            )
        }
    }

    /** Ends every collector after it has taken what is buffered for it; later collectors get only the leftovers. */
    fun close() {
        synchronized(lock) {
            closed = true
            subscribers.forEach { it.signal.close() }
        }
    }

    val flow: Flow<T> = flow {
        val mine = Buffer()
        synchronized(lock) {
            if (subscribers.isEmpty()) {
                while (true) {
                    val m = pending.poll() ?: break
                    mine.items.addLast(m)
                    mine.bytes += sizeOf(m)
                }
            }
            subscribers += mine
            if (closed) mine.signal.close()
        }
        try {
            while (true) {
                val next = synchronized(lock) { mine.poll() }
                if (next != null) {
                    emit(next)
                    continue
                }
                if (mine.signal.receiveCatching().isClosed) {
                    // Closed: take what is left, then end.
                    while (true) emit(synchronized(lock) { mine.poll() } ?: break)
                    break
                }
            }
        } finally {
            synchronized(lock) {
                subscribers -= mine
                if (subscribers.isEmpty() && mine.items.isNotEmpty()) {
                    // Give what this collector never took back to the next one, ahead of newer messages.
                    val back = ArrayDeque(mine.items)
                    while (true) {
                        val m = pending.poll() ?: break
                        back.addLast(m)
                    }
                    for (m in back) if (!pending.tryAdd(m, sizeOf(m))) droppedCount.incrementAndGet()
                }
            }
        }
    }
}
