package dev.kcluster

import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.rssKb
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.net.ConnectException
import java.time.Duration
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout

class WatcherLifecycleTest :
    FunSpec({
        test("messages go both ways, broadcast reaches every worker, and a reply reaches only its sender") {
            withWatcher(testConfig(EchoWorker::class.java), 3) { w ->
                val t0 = System.nanoTime()
                w.broadcast(Message.ofString("hi")) shouldBe 3
                val incoming = w.messages
                val hellos = withTimeout(30_000) { incoming.filter { it.message.asString().startsWith("echo:hi") }.take(3).toList() }
                println("NUMBER broadcast to 3 and 3 replies: ${(System.nanoTime() - t0) / 1000} us")
                hellos.map { it.worker.id }.toSet() shouldBe w.workers.map { it.id }.toSet()
                val chosen = hellos[1].worker
                chosen.send(Message.ofString("private"))
                chosen.send(Message.ofString("after"))
                val next = withTimeout(30_000) { incoming.take(2).toList() }
                next.map { it.message.asString() } shouldBe listOf("echo:private from ${chosen.id}", "echo:after from ${chosen.id}")
            }
        }

        test("a stopped worker's own shutdown hooks still reach the watcher after its BYE, and it exits 0") {
            val dir = java.nio.file.Files.createTempDirectory("kcl-hooks")
            try {
                withWatcher(testConfig(EchoWorker::class.java, "hook-message", dir.toString()), 1) { w ->
                    coroutineScope {
                        val worker = w.workers.single()
                        val said = java.util.concurrent.CopyOnWriteArrayList<String>()
                        val collector = launch { w.messages.collect { said += it.message.asString() } }
                        val exited = async { withTimeout(30_000) { w.events.filterIsInstance<ClusterEvent.WorkerExited>().first() } }
                        kotlinx.coroutines.yield()
                        val stopping = async { worker.stop() }
                        awaitUntil("the program's shutdown hook runs", 30_000) { "hook started" in said }
                        // Broadcasts go on until the worker's BYE: then the watcher writes to it no more (a write after that would
                        // fail, and the closed socket would drop what the hook sends next).
                        awaitUntil("the watcher sends the exiting worker nothing more", 30_000) {
                            w.broadcast(Message.ofString("to a worker in its shutdown hooks")) == 0
                        }
                        java.nio.file.Files.writeString(dir.resolve("release"), "")
                        awaitUntil("the hook's last message", 30_000) { "from a hook after a broadcast" in said }
                        stopping.await()
                        val reason = exited.await().reason
                        reason.exitCode shouldBe 0
                        reason.signal shouldBe null
                        // (EchoWorker also says "bye N" as it stops.)
                        said.filter { it.startsWith("hook") || it.startsWith("from a hook") } shouldBe
                            listOf("hook started", "from a hook after a broadcast")
                        collector.cancel()
                    }
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        test("large messages cross intact both ways and an oversized one is refused without harm") {
            withWatcher(testConfig(EchoWorker::class.java) { maxFrameSize(8 * 1024 * 1024) }, 1) { w ->
                val worker = w.workers.single()
                val big = kotlin.random.Random.nextBytes(5 * 1024 * 1024 + 17)
                worker.send(Message.ofBytes(big))
                val back = withTimeout(30_000) { w.messages.first() }.message
                back.type shouldBe "kotlin.ByteArray"
                back.bytes().contentEquals(big.reversedArray()) shouldBe true
                val e = shouldThrow<ProtocolException> { worker.send(Message.ofBytes(ByteArray(8 * 1024 * 1024))) }
                e.message shouldContain "exceeds the limit of 8388608 bytes"
                worker.send(Message.ofString("still there"))
                withTimeout(30_000) { w.messages.first() }.message.asString() shouldBe "echo:still there from 1"
            }
        }

        test("graceful stop: messages sent while stopping arrive before the message flow completes") {
            val w = ClusterWatcher(testConfig(EchoWorker::class.java))
            w.start(2)
            val got = java.util.concurrent.CopyOnWriteArrayList<String>()
            coroutineScope {
                val collector = launch { w.messages.collect { got += it.message.asString() } }
                w.broadcast(Message.ofString("before stop"))
                awaitUntil("both echoes") { got.count { it.startsWith("echo:before stop") } == 2 }
                w.stop()
                withTimeout(30_000) { collector.join() }
            }
            got shouldContainAll listOf("bye 1", "bye 2")
            got.filter { it == "bye 1" } shouldHaveSize 1
            w.workers.forEach { it.state shouldBe WorkerState.STOPPED }
            w.awaitTermination() shouldBe null
            w.stop() // idempotent
        }

        test("a worker that stops itself exits cleanly and is not replaced") {
            withWatcher(testConfig(EchoWorker::class.java), 2) { w ->
                val exited = async { w.events.filterIsInstance<ClusterEvent.WorkerExited>().first() }
                val second = w.workers[1]
                second.send(Message.ofString("stop-yourself"))
                val e = withTimeout(30_000) { exited.await() }
                e.worker.id shouldBe second.id
                e.reason.expected shouldBe true
                e.reason.exitCode shouldBe 0
                awaitUntil("one worker left") { w.workers.size == 1 }
                w.workers.single().id shouldBe 1
            }
        }

        test("rolling restart runs the program again and the shared listener never refuses a connection") {
            withWatcher(testConfig(EchoWorker::class.java, "listen", "127.0.0.1:0"), 2) { w ->
                val port =
                    withTimeout(30_000) { w.messages.first { it.message.asString().startsWith("port ") } }
                        .message
                        .asString()
                        .removePrefix("port ")
                        .toInt()
                val oldPids = w.workers.map { it.pid }.toSet()
                val stop = AtomicBoolean()
                val served = AtomicInteger()
                val failures = AtomicInteger()
                val answers = java.util.concurrent.ConcurrentHashMap.newKeySet<String>()
                val client =
                    launch(Dispatchers.IO) {
                        while (!stop.get()) {
                            try {
                                val line = ask(port)
                                if (line.startsWith("worker ")) {
                                    served.incrementAndGet()
                                    answers += line
                                } else failures.incrementAndGet()
                            } catch (e: ConnectException) {
                                failures.incrementAndGet()
                            }
                        }
                    }
                val t0 = System.nanoTime()
                val result = w.restart()
                println(
                    "NUMBER rolling restart of 2 workers: ${(System.nanoTime() - t0) / 1_000_000} ms, ${served.get()} connections served during it"
                )
                stop.set(true)
                client.join()
                result.rolledBack shouldBe false
                result.replaced shouldBe 2
                failures.get() shouldBe 0
                val newWorkers = w.workers
                newWorkers.map { it.pid }.toSet().intersect(oldPids) shouldHaveSize 0
                newWorkers.map { it.id } shouldBe listOf(3, 4)
                newWorkers.forEach { it.restarts shouldBe 1 }
                // The new workers run the program: they greet again and serve the same port.
                w.broadcast(Message.ofString("again")) shouldBe 2
                withTimeout(30_000) { w.messages.filter { it.message.asString().startsWith("echo:again") }.take(2).toList() }
                    .map { it.worker.id }
                    .toSet() shouldBe setOf(3, 4)
            }
        }

        test("a restart whose replacement never becomes READY rolls back and keeps the old workers") {
            val config =
                testConfig(EchoWorker::class.java, "ready-only-first") {
                    readyPolicy(ReadyPolicy.EXPLICIT)
                    readyTimeout(Duration.ofSeconds(12))
                }
            withWatcher(config, 1) { w ->
                val old = w.workers.single()
                val result = w.restart()
                result.rolledBack shouldBe true
                result.replaced shouldBe 0
                result.reason!! shouldContain "replacement worker 2 for worker 1 failed: not READY within 12000 ms"
                w.workers.single().pid shouldBe old.pid
                w.workers.single().state shouldBe WorkerState.READY
                awaitUntil("replacement gone") { ProcessHandle.current().children().count() == 1L }
            }
        }

        test("scale grows and shrinks the cluster") {
            withWatcher(testConfig(EchoWorker::class.java), 1) { w ->
                w.scale(3)
                w.workers.map { it.id } shouldBe listOf(1, 2, 3)
                // Workers learn the cluster size they were launched into (a sizing hint).
                w.workers.last().send(Message.ofString("count"))
                withTimeout(30_000) { w.messages.first() }.message.asString() shouldBe "count 3"
                w.workers.forEach { it.state shouldBe WorkerState.READY }
                w.scale(1)
                w.workers.map { it.id } shouldBe listOf(1)
            }
        }

        test("a worker added by scale that dies before READY leaves no slot behind, and the cluster keeps serving") {
            withWatcher(testConfig(dev.kcluster.testing.FirstOnlyWorker::class.java), 1) { w ->
                val first = w.workers.single()
                val e = shouldThrow<ClusterException> { w.scale(2) }
                e.message shouldContain "only worker 1 may start, this is worker 2"
                // The failed worker's slot is gone: it is neither listed nor respawned.
                w.workers.map { it.id } shouldBe listOf(first.id)
                w.workers.single().state shouldBe WorkerState.READY
                w.state.value.workers.map { it.id } shouldBe listOf(first.id)
                awaitUntil("only the first worker is left") { ProcessHandle.current().children().count() == 1L }
                // A later scale tries again with a fresh slot (and fails the same way), still without leftovers.
                shouldThrow<ClusterException> { w.scale(2) }
                w.workers.map { it.id } shouldBe listOf(first.id)
            }
        }

        test("per-worker control: restart replaces only that worker, stop removes its slot, kill respawns it") {
            withWatcher(testConfig(EchoWorker::class.java), 3) { w ->
                val (a, b, c) = w.workers
                val r = a.restart()
                r.replaced shouldBe 1
                r.rolledBack shouldBe false
                val fresh = w.workers.first()
                fresh.slot shouldBe a.slot
                fresh.id shouldNotBe a.id
                fresh.state shouldBe WorkerState.READY
                w.workers.drop(1).map { it.pid } shouldBe listOf(b.pid, c.pid)
                a.state shouldBe WorkerState.STOPPED

                b.stop()
                w.workers.map { it.id } shouldBe listOf(fresh.id, c.id)
                b.state shouldBe WorkerState.STOPPED

                val respawned = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
                c.kill()
                withTimeout(30_000) { respawned.await() }.previous.id shouldBe c.id
                awaitUntil("the killed worker's slot is READY again") {
                    w.workers.size == 2 && w.workers.all { it.state == WorkerState.READY }
                }
                w.workers.first().pid shouldBe fresh.pid
            }
        }

        test("bad configuration and misuse fail fast with clear messages") {
            shouldThrow<IllegalArgumentException> { WatcherConfig("x.Main") { stopTimeout(Duration.ofSeconds(-1)) } }.message shouldBe
                "stopTimeout must be positive, was PT-1S"
            shouldThrow<IllegalArgumentException> { WatcherConfig(" ") }.message shouldContain "target"
            val w = ClusterWatcher(testConfig(EchoWorker::class.java))
            shouldThrow<IllegalArgumentException> { w.start(0) }.message shouldBe "a cluster needs at least 1 worker, got 0"
            w.start(1)
            try {
                shouldThrow<IllegalStateException> { w.start(1) }.message shouldContain "already started"
                println("NUMBER idle worker RSS: ${rssKb(w.workers.single().pid)} kB (test JVM options)")
            } finally {
                w.stop()
            }
        }

        test("a missing main class fails start with the class name and leaves no worker") {
            val w = ClusterWatcher(WatcherConfig("no.such.MainClass") { jvmOptions(dev.kcluster.testing.TEST_JVM) })
            val e = shouldThrow<ClusterException> { w.start(2) }
            e.message shouldContain "main class not found: no.such.MainClass"
            w.awaitTermination().shouldBeInstanceOf<ClusterException>()
            awaitUntil("no worker left") { ProcessHandle.current().children().count() == 0L }
        }
    })
