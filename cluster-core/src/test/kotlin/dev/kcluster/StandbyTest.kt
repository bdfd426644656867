package dev.kcluster

import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.FloodingStandby
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.signal
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeIn
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.net.InetSocketAddress
import java.nio.channels.SocketChannel
import java.nio.file.Files
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.flow.transformWhile
import kotlinx.coroutines.withTimeout

private suspend fun ClusterWatcher.awaitStandby(other: Int? = null): WorkerStatus =
    withTimeout(30_000) { state.first { s -> s.workers.any { it.state == WorkerState.STANDBY && it.id != other } } }
        .workers
        .first { it.state == WorkerState.STANDBY && it.id != other }

private fun greeting(port: Int): String =
    SocketChannel.open(InetSocketAddress("127.0.0.1", port)).use { c ->
        val buf = java.nio.ByteBuffer.allocate(64)
        while (c.read(buf) >= 0 && !String(buf.array(), 0, buf.position()).endsWith("\n")) Unit
        String(buf.array(), 0, buf.position()).trim()
    }

class StandbyTest :
    FunSpec({
        for (mode in listOf(SocketMode.SHARED, SocketMode.BALANCE)) test(
            "$mode: a standby gets no traffic, is promoted when a worker dies, and a new standby takes its place"
        ) {
            withWatcher(testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0") { standby(1).socketMode(mode) }, 2) { w ->
                val standby = w.awaitStandby()
                standby.slot shouldBe 0
                w.workers.map { it.id } shouldNotContain standby.id
                w.broadcast(Message.ofString("ping")) shouldBe 2
                val port = w.listeningAddresses.single().port
                val serving = w.workers.map { "worker ${it.id}" }
                // The standby has asked for the listener, but the watcher holds its LISTEN until the promotion: every connection
                // reaches a slot's worker.
                repeat(20) { greeting(port) shouldBeIn serving }

                val victim = w.workers.first()
                val respawned = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
                // The standby is promoted as soon as the victim's process is gone, before its exit is reported; the events still
                // come in their order: the crash, the promotion, then the promoted worker's READY.
                val order =
                    async(start = CoroutineStart.UNDISPATCHED) {
                        w.events
                            .transformWhile { e ->
                                when {
                                    e is ClusterEvent.WorkerExited && e.worker.id == victim.id -> emit("exited")
                                    e is ClusterEvent.WorkerRespawned && e.previous.id == victim.id -> emit("respawned ${e.worker.id}")
                                    e is ClusterEvent.WorkerReady && e.worker.id == standby.id -> emit("ready")
                                }
                                !(e is ClusterEvent.WorkerReady && e.worker.id == standby.id)
                            }
                            .toList()
                    }
                signal(victim.pid, "KILL")
                val promoted = withTimeout(30_000) { respawned.await() }.worker
                withTimeout(30_000) { order.await() } shouldBe listOf("exited", "respawned ${standby.id}", "ready")
                promoted.id shouldBe standby.id
                promoted.slot shouldBe victim.slot
                promoted.restarts shouldBe 1
                awaitUntil("the promoted standby is READY") { promoted.state == WorkerState.READY }
                awaitUntil("the promoted standby serves") { greeting(port) == "worker ${promoted.id}" }
                w.awaitStandby(other = standby.id).id shouldNotBe promoted.id
                w.workers.map { it.id }.toSet() shouldBe setOf(promoted.id, w.workers.last().id)
            }
        }

        test("a standby that sends more LISTEN requests than the watcher holds is closed and replaced; the slots keep serving") {
            val dir = Files.createTempDirectory("kcluster-flood")
            try {
                withWatcher(testConfig(FloodingStandby::class.java, dir.toString()) { standby(1) }, 2) { w ->
                    val serving = w.workers.map { it.id }.toSet()
                    val exited =
                        async(start = CoroutineStart.UNDISPATCHED) { w.events.filterIsInstance<ClusterEvent.WorkerExited>().first() }
                    val gone = withTimeout(30_000) { exited.await() }
                    Files.exists(dir.resolve("flooded")) shouldBe true
                    (gone.worker.id in serving) shouldBe false
                    gone.reason.expected shouldBe false
                    val next = w.awaitStandby(other = gone.worker.id)
                    next.id shouldNotBe gone.worker.id
                    w.workers.map { it.id }.toSet() shouldBe serving
                    w.workers.all { it.state == WorkerState.READY } shouldBe true
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        test("a rolling restart replaces the standbys too, so a later promotion runs the new code") {
            val versionFile = Files.createTempFile("kcluster-version", ".txt")
            try {
                Files.writeString(versionFile, "v1")
                val config =
                    testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0", "version-file", versionFile.toString()) { standby(1) }
                withWatcher(config, 2) { w ->
                    val old = w.awaitStandby()
                    Files.writeString(versionFile, "v2")
                    w.restart().rolledBack shouldBe false
                    val fresh = w.awaitStandby(other = old.id)
                    fresh.id shouldNotBe old.id
                    w.state.value.workers.map { it.id } shouldNotContain old.id
                    val respawned = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
                    signal(w.workers.first().pid, "KILL")
                    val promoted = withTimeout(30_000) { respawned.await() }.worker
                    promoted.id shouldBe fresh.id
                    awaitUntil("promoted READY") { promoted.state == WorkerState.READY }
                    val answers = async {
                        withTimeout(30_000) { w.messages.filter { it.message.asString().startsWith("version") }.first() }
                    }
                    promoted.send(Message.ofString("version"))
                    answers.await().message.asString() shouldBe "version v2 from ${promoted.id}"
                }
            } finally {
                Files.deleteIfExists(versionFile)
            }
        }
    })
