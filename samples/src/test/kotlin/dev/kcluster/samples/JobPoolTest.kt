package dev.kcluster.samples

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.ReadyPolicy
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout

class JobPoolTest :
    FunSpec({
        test("a worker crash mid-job reschedules the job and its result arrives") {
            val watcher = ClusterWatcher(testConfig(JobPool::class.java.name) { readyPolicy(ReadyPolicy.START) })
            JobPool(watcher).use { pool ->
                try {
                    coroutineScope {
                        val crashed = launch {
                            withTimeout(120_000) { watcher.events.first { it is ClusterEvent.WorkerExited && !it.reason.expected } }
                        }
                        watcher.start(2)
                        val jobs =
                            listOf(
                                pool.apply(PrimeJob(100)),
                                pool.apply(PrimeJob(1_000, crashOnFirstAttempt = true)),
                                pool.apply(PrimeJob(10_000)),
                                pool.apply(PrimeJob(100_000)),
                            )
                        val results = pool.getAll(jobs, 120.seconds)
                        results.map { it.primes } shouldBe listOf(25, 168, 1229, 9592)
                        results[1].attempts shouldBe 2
                        results.filterIndexed { i, _ -> i != 1 }.all { it.attempts == 1 } shouldBe true
                        crashed.join()
                        shouldThrow<IllegalArgumentException> { PrimeJob(-1) }
                        // a job nobody can finish in time: get(timeout) gives up
                        shouldThrow<TimeoutCancellationException> { pool.apply(PrimeJob(10, delayMillis = 60_000)).get(200.milliseconds) }
                    }
                } finally {
                    watcher.stop()
                }
            }
        }
    })
