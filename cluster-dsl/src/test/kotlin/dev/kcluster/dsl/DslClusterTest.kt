package dev.kcluster.dsl

import dev.kcluster.dsl.internal.Runner
import dev.kcluster.dsl.testing.DslTestApp
import dev.kcluster.dsl.testing.Hello
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.net.Socket
import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

/** The DSL's watcher side in this JVM; the workers are real JVMs running [DslTestApp]. */
class DslClusterTest :
    FunSpec({
        /** Runs DslTestApp's cluster plus [extra]; [scenario] runs once all workers are READY, then the cluster stops. */
        suspend fun runCluster(vararg args: String, extra: ClusterSpec.() -> Unit = {}, scenario: suspend WatcherScope.() -> Unit): Int {
            var failure: Throwable? = null
            val code =
                withContext(Dispatchers.IO) {
                    Runner.run(args.toList(), caller = null, installSignals = false, standaloneEnv = null) {
                        DslTestApp.configure(this)
                        mainClass(DslTestApp::class.java.name)
                        extra()
                        onStarted {
                            try {
                                withTimeout(90_000) { scenario() }
                            } catch (e: Throwable) {
                                failure = e
                            } finally {
                                stop()
                            }
                        }
                    }
                }
            failure?.let { throw it }
            return code
        }

        test("the worker block runs once in each of 3 worker processes and messages travel both ways") {
            val hellos = Channel<Hello>(Channel.UNLIMITED)
            val echoes = Channel<String>(Channel.UNLIMITED)
            val exits = ConcurrentLinkedQueue<Pair<Int, Boolean>>()
            var workerIds = emptyList<Int>()
            val code =
                runCluster(
                    "workers",
                    "3",
                    extra = {
                        onMessage<Hello> { hellos.send(it.data) }
                        onMessage<String> { echoes.send(it.data) }
                        onWorkerExit { w, reason -> exits += w.id to reason.expected }
                    },
                ) {
                    workerIds = workers.map { it.id }
                    val seen = List(3) { hellos.receive() }
                    seen.map { it.id to it.pid } shouldContainExactlyInAnyOrder workers.map { it.id to it.pid }
                    seen.forEach { it.standalone shouldBe false }
                    broadcast("ping") shouldBe 3
                    List(3) { echoes.receive() } shouldContainExactlyInAnyOrder workers.map { "echo:ping from ${it.id}" }
                    workers.first().send(dev.kcluster.Message.ofString("just-you"))
                    echoes.receive() shouldBe "echo:just-you from ${workers.first().id}"
                }
            code shouldBe 0
            exits.toList() shouldContainExactlyInAnyOrder workerIds.map { it to true }
        }

        test("restart replaces every worker with new processes that run the worker block again") {
            val hellos = Channel<Hello>(Channel.UNLIMITED)
            val code =
                runCluster("workers", "2", extra = { onMessage<Hello> { hellos.send(it.data) } }) {
                    val before = List(2) { hellos.receive() }
                    val result = restart()
                    result.replaced shouldBe 2
                    result.rolledBack shouldBe false
                    val after = List(2) { hellos.receive() }
                    after.map { it.pid } shouldContainExactlyInAnyOrder workers.map { it.pid }
                    (after.map { it.pid }.toSet() intersect before.map { it.pid }.toSet()) shouldBe emptySet()
                    after.map { it.id }.toSet() intersect before.map { it.id }.toSet() shouldBe emptySet()
                }
            code shouldBe 0
        }

        test("the workers answer on the shared socket the watcher holds") {
            val code =
                runCluster("workers", "2") {
                    listeningAddresses shouldHaveSize 1
                    val port = listeningAddresses.single().port
                    val answers =
                        List(8) {
                            Socket("127.0.0.1", port).use {
                                it.soTimeout = 30_000
                                it.getInputStream().bufferedReader().readLine()
                            }
                        }
                    answers.toSet().forEach { a -> (a in workers.map { "worker ${it.id}" }) shouldBe true }
                }
            code shouldBe 0
        }

        test("a worker block that returns finishes its worker, and the watcher stops when all have finished") {
            val hellos = Channel<Hello>(Channel.UNLIMITED)
            val exits = ConcurrentLinkedQueue<Boolean>()
            val code =
                withContext(Dispatchers.IO) {
                    Runner.run(listOf("workers", "2", "finish"), caller = null, installSignals = false, standaloneEnv = null) {
                        DslTestApp.configure(this)
                        mainClass(DslTestApp::class.java.name)
                        onMessage<Hello> { hellos.send(it.data) }
                        onWorkerExit { _, reason -> exits += reason.expected }
                    }
                }
            code shouldBe 0
            List(2) { hellos.receive() } shouldHaveSize 2
            exits.toList() shouldBe listOf(true, true)
        }

        test("a failing coroutine launched in worker { } crashes the worker; a crash loop stops the cluster with exit code 1") {
            val exits = ConcurrentLinkedQueue<dev.kcluster.ExitReason>()
            val code =
                withContext(Dispatchers.IO) {
                    Runner.run(listOf("workers", "1", "fail-child"), caller = null, installSignals = false, standaloneEnv = null) {
                        DslTestApp.configure(this)
                        mainClass(DslTestApp::class.java.name)
                        restart { maxCrashes(1, 60.seconds) }
                        onWorkerExit { _, reason -> exits += reason }
                    }
                }
            code shouldBe 1
            exits.size shouldBe 2
            exits.forEach { r ->
                r.expected shouldBe false
                (r.detail ?: "") shouldContain "child boom in worker"
            }
        }
    })
