package dev.kcluster.internal.worker

import dev.kcluster.internal.ipc.PayloadReader
import dev.kcluster.internal.ipc.PayloadWriter
import java.lang.management.ManagementFactory
import java.lang.management.MemoryType
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong

/** A worker's load counters, sent with every PONG (and in a STATS frame when the heap crosses its limit). */
internal object LoadCounters {
    val requests = AtomicLong()
    val connections = AtomicInteger()

    /** Sockets the balancer passed to this worker (ACCEPTED frames) so far. */
    val received = AtomicLong()

    /** Heap used after the last GC, summed over the heap pools that report it. */
    fun heapAfterGc(): Long =
        ManagementFactory.getMemoryPoolMXBeans()
            .filter { it.type == MemoryType.HEAP && it.isCollectionUsageThresholdSupported }
            .sumOf { it.collectionUsage?.used ?: 0L }

    fun encode(): ByteArray =
        PayloadWriter().i64(requests.get()).i32(connections.get().coerceAtLeast(0)).i64(heapAfterGc()).i64(received.get()).toByteArray()

    /** One load report. */
    class Report(val requests: Long, val connections: Int, val heapAfterGc: Long, val received: Long)

    /** The report in [payload]; null for an empty payload (an older worker). */
    fun decode(payload: ByteArray): Report? {
        if (payload.isEmpty()) return null
        val r = PayloadReader(payload, "PONG")
        return Report(r.i64(), r.i32(), r.i64(), r.i64())
    }
}
