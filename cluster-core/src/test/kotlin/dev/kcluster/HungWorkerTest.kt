package dev.kcluster

import dev.kcluster.internal.supervisor.ThreadDump
import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.signal
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout

private fun attachFiles(dir: Path): List<String> =
    Files.list(dir).use { s -> s.map { it.fileName.toString() }.filter { it.startsWith(".attach_pid") }.toList() }

class HungWorkerTest :
    FunSpec({
        val fastHeartbeat: WatcherConfig.Builder.() -> Unit = {
            heartbeatInterval(Duration.ofMillis(200))
            heartbeatTimeout(Duration.ofMillis(2_000))
        }

        test("a SIGSTOPped worker is killed at the heartbeat timeout without a thread dump attempt, and respawned") {
            val dir = Files.createTempDirectory("kcluster-hung-")
            try {
                withWatcher(
                    testConfig(EchoWorker::class.java) {
                        fastHeartbeat()
                        workingDirectory(dir)
                    },
                    1,
                ) { w ->
                    val victim = w.workers.single()
                    val hung = async {
                        (w.events.first { it is ClusterEvent.WorkerUnresponsive } as ClusterEvent.WorkerUnresponsive) to System.nanoTime()
                    }
                    val exited = async {
                        (w.events.first { it is ClusterEvent.WorkerExited } as ClusterEvent.WorkerExited) to System.nanoTime()
                    }
                    val respawned = async { w.events.first { it is ClusterEvent.WorkerRespawned } as ClusterEvent.WorkerRespawned }
                    val stoppedAt = System.nanoTime()
                    signal(victim.pid, "STOP")
                    awaitUntil("worker stopped") { ThreadDump.isStopped(victim.pid) }
                    val (e, hungAt) = withTimeout(60_000) { hung.await() }
                    e.worker.id shouldBe victim.id
                    e.threadDump shouldBe null
                    val (exit, exitAt) = withTimeout(60_000) { exited.await() }
                    exit.worker.id shouldBe victim.id
                    exit.reason.signal shouldBe 9
                    exit.reason.detail!! shouldContain "unresponsive: no heartbeat answer"
                    (hungAt <= exitAt) shouldBe true
                    // Flagged after the 2 s heartbeat timeout; the old code then waited 5 s more for a jcmd
                    // that could not answer (>= 7 s in all). Killed at once, it is gone well before.
                    val ms = (exitAt - stoppedAt) / 1_000_000
                    println("NUMBER SIGSTOPped worker: SIGSTOP to WorkerExited $ms ms (heartbeat timeout 2000 ms)")
                    ms shouldBeLessThan 6_000
                    withTimeout(60_000) { respawned.await() }.previous.id shouldBe victim.id
                    awaitUntil("new worker READY") { w.workers.single().state == WorkerState.READY }
                    attachFiles(dir).shouldBeEmpty()
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        test("a live hung worker still yields a thread dump with its IPC thread, and leaves no attach file") {
            val dir = Files.createTempDirectory("kcluster-hung-")
            try {
                withWatcher(
                    testConfig(EchoWorker::class.java) {
                        fastHeartbeat()
                        workingDirectory(dir)
                    },
                    1,
                ) { w ->
                    val victim = w.workers.single()
                    val hung = async { w.events.first { it is ClusterEvent.WorkerUnresponsive } as ClusterEvent.WorkerUnresponsive }
                    val respawned = async { w.events.first { it is ClusterEvent.WorkerRespawned } as ClusterEvent.WorkerRespawned }
                    victim.send(Message.ofString("stall"))
                    val e = withTimeout(60_000) { hung.await() }
                    e.worker.id shouldBe victim.id
                    e.threadDump shouldNotBe null
                    e.threadDump!! shouldContain "kcluster-ipc-watcher"
                    withTimeout(60_000) { respawned.await() }.previous.id shouldBe victim.id
                    attachFiles(dir).shouldBeEmpty()
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        test("isStopped follows SIGSTOP and SIGCONT of a real process") {
            val p = ProcessBuilder("sleep", "60").start()
            try {
                ThreadDump.isStopped(p.pid()) shouldBe false
                signal(p.pid(), "STOP")
                awaitUntil("stopped") { ThreadDump.isStopped(p.pid()) }
                signal(p.pid(), "CONT")
                awaitUntil("running again") { !ThreadDump.isStopped(p.pid()) }
            } finally {
                p.destroyForcibly().waitFor()
            }
            ThreadDump.isStopped(p.pid()) shouldBe false
        }
    })
