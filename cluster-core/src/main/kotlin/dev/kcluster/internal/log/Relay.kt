package dev.kcluster.internal.log

import java.io.InputStream
import java.util.concurrent.ArrayBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong
import java.util.concurrent.locks.LockSupport
import org.slf4j.LoggerFactory
import org.slf4j.MDC

/**
 * Re-emits worker output in the watcher's log, tagged with the worker id.
 *
 * [emit] never blocks and never writes: it is called on IPC reader threads (which also answer heartbeats) and on the stdout/stderr relay
 * threads. It puts the record in a bounded queue of [CAPACITY] records that one daemon thread, `kcluster-log-writer`, drains into the SLF4J
 * backend. When the queue is full (the backend is blocked or slower than the workers), records are dropped and counted: the first drop logs
 * one warning, and once the queue is back under half full the writer logs `dropped N worker log records: the log sink was blocked`. Records
 * still queued when the JVM exits get up to [EXIT_DRAIN_MILLIS] to be written.
 */
internal object Relay {
    const val CAPACITY = 8192
    const val EXIT_DRAIN_MILLIS = 2_000L

    private class Entry(val record: LogRecord, val workerId: Int)

    private val queue = ArrayBlockingQueue<Entry>(CAPACITY)
    private val dropped = AtomicLong()
    private val dropping = AtomicBoolean()
    private val pending = AtomicLong()
    private val started = AtomicBoolean()
    private val log by lazy { LoggerFactory.getLogger("dev.kcluster.ClusterWatcher") }

    /** Reads [input] line by line on a daemon thread. */
    fun lines(input: InputStream, name: String, onLine: (String) -> Unit) {
        Thread({ runCatching { input.bufferedReader().forEachLine(onLine) } }, "kcluster-relay-$name").apply {
            isDaemon = true
            start()
        }
    }

    /** Queues [record] from worker [workerId] for the writer thread; drops and counts it when the queue is full. */
    fun emit(record: LogRecord, workerId: Int) {
        if (started.compareAndSet(false, true)) startWriter()
        pending.incrementAndGet()
        if (queue.offer(Entry(record, workerId))) return
        pending.decrementAndGet()
        dropped.incrementAndGet()
        if (dropping.compareAndSet(false, true)) {
            // Not on this thread: the backend that is blocking the writer may block this call too.
            Thread(
                    {
                        runCatching {
                            log.warn(
                                "dropping worker log records: the log sink is not keeping up ({} records queued); a count follows when it recovers",
                                CAPACITY,
                            )
                        }
                    },
                    "kcluster-log-drop-warning",
                )
                .apply {
                    isDaemon = true
                    start()
                }
        }
    }

    private fun startWriter() {
        Thread(::drain, "kcluster-log-writer").apply {
            isDaemon = true
            start()
        }
        Runtime.getRuntime()
            .addShutdownHook(
                Thread(
                    {
                        val deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EXIT_DRAIN_MILLIS)
                        while (pending.get() > 0 && System.nanoTime() < deadline) LockSupport.parkNanos(1_000_000)
                    },
                    "kcluster-log-exit-drain",
                )
            )
    }

    private fun drain() {
        while (true) {
            val e =
                try {
                    queue.take()
                } catch (_: InterruptedException) {
                    continue
                }
            try {
                write(e.record, e.workerId)
            } catch (_: Throwable) {
                // A failing backend loses this record, never the writer.
            } finally {
                pending.decrementAndGet()
            }
            if (dropping.get() && queue.size < CAPACITY / 2) {
                dropping.set(false)
                val n = dropped.getAndSet(0)
                if (n > 0) runCatching { log.warn("dropped {} worker log records: the log sink was blocked", n) }
            }
        }
    }

    private fun write(record: LogRecord, workerId: Int) {
        val factory = LoggerFactory.getILoggerFactory()
        if (factory is WorkerRecordWriter) {
            factory.writeWorkerRecord(record, workerId)
            return
        }
        val logger = LoggerFactory.getLogger(record.logger)
        val level = LogOutput.level(record.level)
        if (!logger.isEnabledForLevel(level)) return
        // This thread's MDC is only ever the record's: the worker's entries, then its id.
        record.mdc.forEach { (k, v) -> MDC.put(k, v) }
        MDC.put("worker", workerId.toString())
        try {
            val msg = if (record.throwable != null) record.message + "\n" + record.throwable.trimEnd('\n') else record.message
            logger.atLevel(level).log(msg)
        } finally {
            MDC.clear()
        }
    }
}
