package dev.kcluster.internal.log

import ch.qos.logback.classic.Logger
import ch.qos.logback.classic.spi.ILoggingEvent
import ch.qos.logback.core.UnsynchronizedAppenderBase
import dev.kcluster.ClusterEvent
import dev.kcluster.testing.CapturingAppender
import dev.kcluster.testing.LoggingWorker
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import org.slf4j.LoggerFactory

/** A log sink that, once armed, blocks the thread writing a worker record for [millis]. */
private class BlockingAppender(private val millis: Long) : UnsynchronizedAppenderBase<ILoggingEvent>() {
    @Volatile var armed = false
    val blocking = CountDownLatch(1)
    val released = CountDownLatch(1)

    override fun append(e: ILoggingEvent) {
        if (!armed || e.mdcPropertyMap["worker"] == null) return
        armed = false
        blocking.countDown()
        Thread.sleep(millis) // the sink's behaviour under test, not synchronisation
        released.countDown()
    }
}

class BlockedLogSinkTest :
    FunSpec({
        test("a log sink blocked for 20 s kills no worker: records are dropped, counted and reported") {
            val flood = LoggerFactory.getLogger(LoggingWorker.FLOOD_LOGGER) as Logger
            val records = CapturingAppender().attach(LoggingWorker.FLOOD_LOGGER)
            val blocker =
                BlockingAppender(20_000).apply {
                    context = flood.loggerContext
                    start()
                }
            flood.addAppender(blocker)
            flood.isAdditive = false // keep the flood off the console
            val watcherLines = CapturingAppender().attach()
            val config =
                testConfig(LoggingWorker::class.java, "flood") {
                    heartbeatInterval(Duration.ofMillis(500))
                    heartbeatTimeout(Duration.ofMillis(2_000))
                }
            try {
                withWatcher(config, 1) { w ->
                    val pid = w.workers.single().pid
                    val bad = CopyOnWriteArrayList<ClusterEvent>()
                    coroutineScope {
                        val watch =
                            launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                                w.events.collect { if (it is ClusterEvent.WorkerUnresponsive || it is ClusterEvent.WorkerExited) bad += it }
                            }
                        awaitUntil("worker records flowing") { records.events.size >= 100 }
                        blocker.armed = true
                        blocker.blocking.await(30, TimeUnit.SECONDS) shouldBe true
                        awaitUntil("one drop warning while the sink is blocked", 25_000) {
                            watcherLines.events.any { it.message.startsWith("dropping worker log records: the log sink is not keeping up") }
                        }
                        blocker.released.count shouldBe 1L // the warning came while the sink was still blocked
                        blocker.released.await(30, TimeUnit.SECONDS) shouldBe true
                        awaitUntil("the drop summary after the sink recovers", 30_000) {
                            watcherLines.events.any { it.message.startsWith("dropped ") }
                        }
                        val summary = watcherLines.events.first { it.message.startsWith("dropped ") }.message
                        println("NUMBER $summary")
                        Regex("dropped (\\d+) worker log records: the log sink was blocked")
                            .matchEntire(summary)!!
                            .groupValues[1]
                            .toLong() shouldBeGreaterThan 0L
                        watcherLines.events.count { it.message.startsWith("dropping worker log records") } shouldBe 1
                        val seen = records.events.size
                        awaitUntil("records flowing again") { records.events.size > seen + 100 }
                        watch.cancel()
                    }
                    bad.shouldBeEmpty()
                    w.workers.single().pid shouldBe pid
                }
            } finally {
                flood.detachAppender(blocker)
                flood.isAdditive = true
                records.detach(LoggingWorker.FLOOD_LOGGER)
                watcherLines.detach()
            }
        }
    })
