package dev.kcluster.bench

import dev.kcluster.ClusterWatcher
import dev.kcluster.ClusterWorker
import dev.kcluster.Message
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerMessage
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout

/** One timed flood: [count] messages of [size] bytes in [seconds]. */
internal class FloodResult(val count: Int, val size: Int, val seconds: Double) {
    val perSecond: Double
        get() = count / seconds

    val mibPerSecond: Double
        get() = count.toDouble() * size / (1 shl 20) / seconds
}

/** Round-trip times in nanoseconds, sorted. */
internal class RttResult(val sorted: LongArray) {
    fun percentileMicros(p: Double): Double = sorted[((sorted.size - 1) * p).toInt()] / 1000.0
}

/**
 * Message benches against one real worker JVM ([BenchWorker]) started by a [ClusterWatcher] in this process. [ClusterWatcher.messages] has
 * one collector for the whole run, on [Dispatchers.Default] like an application's would be; each bench installs a handler into it.
 */
internal class MessageBench private constructor(private val watcher: ClusterWatcher, scope: CoroutineScope) {
    @Volatile private var handler: (WorkerMessage) -> Unit = {}
    private val collector = scope.launch(Dispatchers.Default) { watcher.messages.collect { handler(it) } }
    private val worker: ClusterWorker
        get() = watcher.workers.single()

    /**
     * Asks the worker for [count] byte messages of [size] bytes; the time runs from sending the command until the watcher's collector holds
     * the worker's `done` after the last one.
     */
    suspend fun flood(count: Int, size: Int): FloodResult {
        val done = CompletableDeferred<Long>()
        var received = 0
        var bytes = 0L
        handler = { m ->
            val msg = m.message
            if (msg.type == BenchWorker.BYTES_TYPE) {
                received++
                bytes += msg.size
            } else if (msg.asString() == "done") {
                done.complete(System.nanoTime())
            }
        }
        val t0 = System.nanoTime()
        worker.send(Message.ofString("flood $count $size"))
        val t1 = withTimeout(120_000) { done.await() }
        check(received == count && bytes == count.toLong() * size) { "flood lost messages: got $received of $count ($bytes bytes)" }
        return FloodResult(count, size, (t1 - t0) / 1e9)
    }

    /**
     * [count] sequential round trips of an 8-byte message: the watcher sends, the worker echoes, the watcher's collector receives and sends
     * the next one.
     */
    suspend fun pingPong(count: Int): RttResult {
        val rtts = LongArray(count)
        val done = CompletableDeferred<Unit>()
        val ping = Message.ofBytes(ByteArray(8))
        val w = worker
        var i = 0
        var sentAt = 0L
        handler = { m ->
            val now = System.nanoTime()
            if (m.message.type == BenchWorker.BYTES_TYPE) {
                rtts[i++] = now - sentAt
                if (i < count) {
                    sentAt = System.nanoTime()
                    w.send(ping)
                } else {
                    done.complete(Unit)
                }
            }
        }
        sentAt = System.nanoTime()
        w.send(ping)
        withTimeout(120_000) { done.await() }
        rtts.sort()
        return RttResult(rtts)
    }

    private suspend fun stop() {
        watcher.stop()
        collector.join()
    }

    companion object {
        /** Starts one [BenchWorker] (default JVM options plus [jvmOptions]), runs [block], stops the watcher. */
        suspend fun <T> with(scope: CoroutineScope, jvmOptions: List<String>, block: suspend (MessageBench) -> T): T {
            val watcher = ClusterWatcher(WatcherConfig(BenchWorker::class.java.name) { jvmOptions(jvmOptions) })
            try {
                watcher.start(1)
                val bench = MessageBench(watcher, scope)
                try {
                    return block(bench)
                } finally {
                    bench.stop()
                }
            } finally {
                watcher.stop()
            }
        }
    }
}
