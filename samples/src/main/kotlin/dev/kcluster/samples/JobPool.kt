package dev.kcluster.samples

import dev.kcluster.Cluster
import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.Message
import dev.kcluster.WatcherConfig
import dev.kcluster.decode
import dev.kcluster.send
import java.io.Closeable
import java.util.concurrent.atomic.AtomicLong
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.cancelChildren
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.Serializable
import org.slf4j.LoggerFactory

/**
 * A job for a [JobPool] worker: count the primes below [n] (at most 10 million). `crashOnFirstAttempt` makes the worker die mid-job once;
 * `delayMillis` makes the job slow on purpose.
 */
@Serializable
public data class PrimeJob(val n: Int, val crashOnFirstAttempt: Boolean = false, val delayMillis: Long = 0) {
    init {
        require(n in 0..10_000_000) { "n must be between 0 and 10,000,000 (the sieve lives in the worker's heap), was $n" }
    }
}

@Serializable internal data class JobRequest(val id: Long, val attempt: Int, val job: PrimeJob)

@Serializable internal data class JobResult(val id: Long, val primes: Int, val worker: Int)

/** A finished job: its result and the worker that computed it. */
public data class JobOutcome(val job: PrimeJob, val primes: Int, val worker: Int, val attempts: Int)

/**
 * The watcher hands jobs to workers (one at a time per worker, queued otherwise) and collects results: [apply] returns a [PendingJob];
 * [PendingJob.get] waits with a timeout; [getAll] waits for many. A worker that crashes mid-job is respawned by the watcher and its job
 * goes back to the head of the queue.
 *
 * `JobPool [--workers N] [--jobs N]` runs a demo: counts primes for a batch of jobs, one of which crashes its worker.
 */
public class JobPool(private val watcher: ClusterWatcher) : Closeable {
    private val log = LoggerFactory.getLogger(JobPool::class.java)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val ids = AtomicLong()
    private val inbox = Channel<Any>(Channel.UNLIMITED)

    private class Entry(val request: JobRequest, val done: CompletableDeferred<JobOutcome>)

    private data class Freed(val worker: Int)

    private data class Lost(val worker: Int)

    /** A submitted job. */
    public inner class PendingJob internal constructor(private val done: CompletableDeferred<JobOutcome>) {
        /** Waits up to [timeout] for the result. @throws kotlinx.coroutines.TimeoutCancellationException when it is late. */
        public suspend fun get(timeout: Duration): JobOutcome = withTimeout(timeout) { done.await() }

        /** [get] for blocking callers. */
        public fun getBlocking(timeout: Duration): JobOutcome = runBlocking { get(timeout) }
    }

    init {
        // Subscribed before the caller starts the watcher: every READY worker becomes idle.
        scope.launch { watcher.events.collect { e -> onEvent(e) } }
        scope.launch { watcher.messages.collect { m -> inbox.send(m.message.decode<JobResult>()) } }
        scope.launch { dispatch() }
    }

    /** Queues [job]; returns at once. */
    public fun apply(job: PrimeJob): PendingJob {
        val done = CompletableDeferred<JobOutcome>()
        inbox.trySend(Entry(JobRequest(ids.incrementAndGet(), 1, job), done))
        return PendingJob(done)
    }

    /** Waits for all [jobs] within one overall [timeout]. */
    public suspend fun getAll(jobs: List<PendingJob>, timeout: Duration): List<JobOutcome> =
        withTimeout(timeout) { jobs.map { it.get(timeout) } }

    private suspend fun onEvent(e: ClusterEvent) {
        when (e) {
            is ClusterEvent.WorkerReady -> inbox.send(Freed(e.worker.id))
            is ClusterEvent.WorkerExited -> inbox.send(Lost(e.worker.id))
            else -> {}
        }
    }

    /** The one place that owns the queue, the idle workers and the jobs in flight. */
    private suspend fun dispatch() {
        val queue = ArrayDeque<Entry>()
        val idle = LinkedHashSet<Int>()
        val running = HashMap<Int, Entry>() // worker id -> job
        for (msg in inbox) {
            when (msg) {
                is Entry -> queue.addLast(msg)
                is Freed -> idle += msg.worker
                is Lost -> {
                    idle -= msg.worker
                    running.remove(msg.worker)?.let { e ->
                        log.warn("worker {} died during job {}; rescheduling it", msg.worker, e.request.id)
                        queue.addFirst(Entry(e.request.copy(attempt = e.request.attempt + 1), e.done))
                    }
                }
                is JobResult -> {
                    val e = running.remove(msg.worker)
                    if (e != null && e.request.id == msg.id)
                        e.done.complete(JobOutcome(e.request.job, msg.primes, msg.worker, e.request.attempt))
                    idle += msg.worker
                }
            }
            while (queue.isNotEmpty() && idle.isNotEmpty()) {
                val workerId = idle.first().also { idle.remove(it) }
                val worker = watcher.workers.firstOrNull { it.id == workerId } ?: continue
                val e = queue.removeFirst()
                try {
                    worker.send(Message.of(e.request))
                    running[workerId] = e
                } catch (x: Exception) {
                    queue.addFirst(e) // the worker is going away; its Lost event follows
                }
            }
        }
    }

    /** Stops dispatching (the watcher is the caller's to stop). */
    override fun close() {
        scope.cancel()
    }

    public companion object {
        /** Entry point: the demo in the watcher, the job runner in a worker. */
        @JvmStatic
        public fun main(args: Array<String>) {
            if (Cluster.isWorker) return worker()
            val workers = Args.int(args, "--workers", 2)
            val count = Args.int(args, "--jobs", 8)
            runBlocking {
                val watcher = ClusterWatcher(WatcherConfig(JobPool::class.java.name) { readyPolicy(dev.kcluster.ReadyPolicy.START) })
                JobPool(watcher).use { pool ->
                    try {
                        watcher.start(workers)
                        val jobs = List(count) { i -> pool.apply(PrimeJob(200_000 + i * 50_000, crashOnFirstAttempt = i == 1)) }
                        for (r in pool.getAll(jobs, 120.seconds)) println(
                            "primes below ${r.job.n}: ${r.primes} (worker ${r.worker}, attempts ${r.attempts})"
                        )
                    } finally {
                        watcher.stop()
                    }
                }
            }
        }

        private fun worker() = runBlocking {
            val id = Cluster.workerId!!
            launch(Dispatchers.Default) {
                Cluster.channel.incoming.collect { m ->
                    val req = m.decode<JobRequest>()
                    if (req.job.crashOnFirstAttempt && req.attempt == 1) {
                        LoggerFactory.getLogger(JobPool::class.java).warn("job {}: crashing on purpose mid-job", req.id)
                        Runtime.getRuntime().halt(13)
                    }
                    if (req.job.delayMillis > 0) kotlinx.coroutines.delay(req.job.delayMillis)
                    Cluster.channel.send(JobResult(req.id, countPrimes(req.job.n), id))
                }
            }
            Cluster.awaitTermination()
            coroutineContext[kotlinx.coroutines.Job]!!.cancelChildren()
        }

        private fun countPrimes(n: Int): Int {
            if (n < 3) return 0
            val composite = BooleanArray(n)
            var count = 0
            for (i in 2 until n) {
                if (composite[i]) continue
                count++
                var j = i.toLong() * i
                while (j < n) {
                    composite[j.toInt()] = true
                    j += i
                }
            }
            return count
        }
    }
}
