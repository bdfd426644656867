package dev.kcluster

import dev.kcluster.testing.CrashingWorker
import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.WatcherMain
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.ipcDirOf
import dev.kcluster.testing.signal
import dev.kcluster.testing.startJvm
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout

private fun alive(pid: Long): Boolean {
    val stat = runCatching { Files.readString(Path.of("/proc/$pid/stat")) }.getOrNull() ?: return false
    return stat.substringAfterLast(") ").firstOrNull() != 'Z'
}

class SupervisionTest :
    FunSpec({
        val fastHeartbeat: WatcherConfig.Builder.() -> Unit = {
            heartbeatInterval(Duration.ofMillis(200))
            heartbeatTimeout(Duration.ofMillis(2_000))
        }

        test("a SIGKILLed worker is respawned with a new id and the others are unaffected") {
            withWatcher(testConfig(EchoWorker::class.java), 3) { w ->
                val victim = w.workers[1]
                val others = w.workers.filter { it !== victim }.map { it.pid }
                val respawned = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
                val ready = async { w.events.filterIsInstance<ClusterEvent.WorkerReady>().first() }
                val t0 = System.nanoTime()
                signal(victim.pid, "KILL")
                val r = withTimeout(30_000) { respawned.await() }
                r.previous.id shouldBe victim.id
                r.worker.id shouldBe 4
                r.delayMillis shouldBe 0
                withTimeout(30_000) { ready.await() }.worker.id shouldBe 4
                println(
                    "NUMBER respawn after SIGKILL to READY: ${(System.nanoTime() - t0) / 1_000_000} ms (includes ${r.delayMillis} ms backoff)"
                )
                w.workers.map { it.pid }.filter { it in others } shouldBe others
                w.workers[1].restarts shouldBe 1
                w.broadcast(Message.ofString("ping")) shouldBe 3
                withTimeout(30_000) { w.messages.filter { it.message.asString().startsWith("echo:ping") }.take(3).toList() }
                    .map { it.worker.id }
                    .toSet() shouldBe setOf(1, 3, 4)
            }
        }

        test("a crash-looping worker is respawned at once, then with growing backoff, then the watcher stops with its exception") {
            val config = testConfig(CrashingWorker::class.java) { maxRestarts(3, Duration.ofSeconds(60)) }
            val w = ClusterWatcher(config)
            val delays = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().take(3).toList().map { it.delayMillis } }
            w.start(1)
            w.workers.single().send(Message.ofString("crash now"))
            val failure = withTimeout(60_000) { w.awaitTermination() }
            failure.shouldBeInstanceOf<ClusterException>()
            failure.message shouldContain "crashed more than 3 times"
            failure.message shouldContain "java.lang.IllegalStateException: kaboom from worker"
            failure.reason!!.exitCode shouldBe 1
            withTimeout(10_000) { delays.await() } shouldBe listOf(0L, 100L, 200L)
            awaitUntil("no worker left") { ProcessHandle.current().children().count() == 0L }
        }

        test("a worker that stops answering heartbeats gets a thread dump, is killed and respawned") {
            withWatcher(testConfig(EchoWorker::class.java, configure = fastHeartbeat), 1) { w ->
                val victim = w.workers.single()
                val hung = async { w.events.filterIsInstance<ClusterEvent.WorkerUnresponsive>().first() }
                val respawned = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
                victim.send(Message.ofString("stall"))
                val e = withTimeout(60_000) { hung.await() }
                e.worker.id shouldBe victim.id
                e.threadDump shouldNotBe null
                e.threadDump!! shouldContain "kcluster-ipc-watcher"
                val r = withTimeout(60_000) { respawned.await() }
                r.previous.id shouldBe victim.id
                awaitUntil("old process gone") { !alive(victim.pid) }
            }
        }

        test("a SIGSTOPped worker is killed and respawned") {
            withWatcher(testConfig(EchoWorker::class.java, configure = fastHeartbeat), 1) { w ->
                val victim = w.workers.single()
                val exited = async { w.events.filterIsInstance<ClusterEvent.WorkerExited>().first() }
                val respawned = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
                signal(victim.pid, "STOP")
                val exit = withTimeout(60_000) { exited.await() }
                exit.reason.signal shouldBe 9
                exit.reason.detail!! shouldContain "unresponsive: no heartbeat answer"
                withTimeout(60_000) { respawned.await() }.previous.id shouldBe victim.id
                awaitUntil("new worker READY") { w.workers.single().state == WorkerState.READY }
            }
        }

        test("SIGKILL of the watcher takes every worker with it, and worker logs reach the watcher's log with their id") {
            val watcher = startJvm(WatcherMain::class.java, "2")
            val stderr = StringBuffer()
            val drain =
                Thread { runCatching { watcher.errorStream.bufferedReader().forEachLine { stderr.append(it).append('\n') } } }
                    .apply { start() }
            val line = watcher.inputStream.bufferedReader().readLine() ?: error("watcher printed nothing: $stderr")
            val pids = line.removePrefix("PIDS ").split(" ").map(String::toLong)
            pids shouldHaveSize 2
            pids.forEach { alive(it) shouldBe true }
            val expectedLines =
                listOf(
                    "[worker 1] dev.kcluster.testing.EchoWorker - hello from worker 1",
                    "[worker 2] stdout - stdout line from worker 2",
                    "[watcher] dev.kcluster.ClusterWatcher - 2 workers ready",
                )
            awaitUntil("worker logs in the watcher's log") { expectedLines.all { stderr.contains(it) } }
            val ipcDir = ipcDirOf(pids.first())
            val t0 = System.nanoTime()
            watcher.destroyForcibly()
            awaitUntil("workers gone", 5_000) { pids.none(::alive) }
            val ms = (System.nanoTime() - t0) / 1_000_000
            println("NUMBER workers gone after watcher SIGKILL: $ms ms")
            ms shouldBeLessThan 1_000
            drain.join(5_000)
            // A SIGKILLed watcher cannot remove its directory (the next watcher would sweep it); leave nothing behind.
            Files.exists(ipcDir) shouldBe true
            dev.kcluster.internal.ipc.PrivateDir.delete(ipcDir)
        }

        test("a watcher JVM ended by SIGTERM removes its IPC directory and its workers exit") {
            val watcher = startJvm(WatcherMain::class.java, "1")
            val drain = Thread { runCatching { watcher.errorStream.readAllBytes() } }.apply { start() }
            val pid = watcher.inputStream.bufferedReader().readLine().removePrefix("PIDS ").trim().toLong()
            val dir = ipcDirOf(pid)
            Files.exists(dir.resolve("ipc.sock")) shouldBe true
            signal(watcher.pid(), "TERM")
            watcher.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) shouldBe true
            awaitUntil("worker gone") { !alive(pid) }
            Files.exists(dir) shouldBe false
            drain.join(5_000)
        }
    })
