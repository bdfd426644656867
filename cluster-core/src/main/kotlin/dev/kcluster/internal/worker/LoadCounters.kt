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

    /** Heap used after the last GC, summed over the heap pools that report it. */
    fun heapAfterGc(): Long = ManagementFactory.getMemoryPoolMXBeans()
        .filter { it.type == MemoryType.HEAP && it.isCollectionUsageThresholdSupported }
        .sumOf { it.collectionUsage?.used ?: 0L }

    fun encode(): ByteArray = PayloadWriter().i64(requests.get()).i32(connections.get().coerceAtLeast(0)).i64(heapAfterGc()).toByteArray()

    /** (requests, connections, heap after GC) from [payload]; null for an empty payload (an older worker). */
    fun decode(payload: ByteArray): Triple<Long, Int, Long>? {
        if (payload.isEmpty()) return null
        val r = PayloadReader(payload, "PONG")
        return Triple(r.i64(), r.i32(), r.i64())
    }
}
