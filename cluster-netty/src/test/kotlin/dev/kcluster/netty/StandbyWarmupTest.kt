package dev.kcluster.netty

import dev.kcluster.ClassCache
import dev.kcluster.ClusterWatcher
import dev.kcluster.WatcherConfig
import dev.kcluster.WorkerState
import dev.kcluster.WorkerStatus
import dev.kcluster.netty.testing.WarmupServer
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.awaitValue
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.net.Socket
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch

/**
 * A standby's warm-up (ServeOptions.standbyWarmup) through real worker JVMs: the standby serves itself one `GET` while it is held, which no
 * client sees and no load report counts; a pipeline without HTTP gets a connection and no bytes; off means nothing; serving workers never
 * warm up.
 */
class StandbyWarmupTest :
    FunSpec({
        fun config(mode: String) =
            WatcherConfig(WarmupServer::class.java.name) {
                args(mode)
                jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k")
                standby(1)
                classCache(ClassCache.OFF)
                heartbeatInterval(Duration.ofMillis(200))
                readyTimeout(Duration.ofSeconds(60))
            }

        /**
         * Runs [mode] with 2 workers and a standby; [block] gets the watcher, the held standby and the messages so far (worker id, text).
         */
        suspend fun cluster(mode: String, block: suspend (ClusterWatcher, WorkerStatus, List<Pair<Int, String>>) -> Unit) = coroutineScope {
            val w = ClusterWatcher(config(mode))
            val seen = CopyOnWriteArrayList<Pair<Int, String>>()
            val collector =
                launch(start = CoroutineStart.UNDISPATCHED) { w.messages.collect { seen += it.worker.id to it.message.asString() } }
            try {
                w.start(2)
                val standby = awaitValue("a held standby", 60_000) { w.state.value.workers.firstOrNull { it.state == WorkerState.STANDBY } }
                withClue({ "messages: $seen" }) { block(w, standby, seen) }
            } finally {
                w.stop()
                collector.cancelAndJoin()
            }
        }

        /** One `GET /` on a new connection; returns the X-Worker-Id of the answer. */
        fun ask(port: Int): Int =
            Socket("127.0.0.1", port).use { s ->
                s.soTimeout = 10_000
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n".toByteArray())
                val head = StringBuilder()
                val input = s.getInputStream()
                while (!head.endsWith("\r\n\r\n")) head.append(input.read().also { check(it >= 0) }.toChar())
                head.lines().single { it.startsWith("X-Worker-Id:", ignoreCase = true) }.substringAfter(':').trim().toInt()
            }

        /** SIGKILLs a serving worker, so that [standby] is promoted in its place. */
        fun killServing(w: ClusterWatcher) = ProcessHandle.of(w.workers.first().pid).get().destroyForcibly()

        fun List<Pair<Int, String>>.of(id: Int) = filter { it.first == id }.map { it.second }

        test("a held standby has served itself one GET of the warm-up path; after its promotion only client requests count") {
            cluster("http") { w, standby, seen ->
                awaitUntil("the standby's warm-up request") { seen.any { it.first == standby.id } }
                val port = w.listeningAddresses.single().port
                val serving = w.workers.map { it.id }.toSet()
                repeat(20) { serving.contains(ask(port)) shouldBe true }
                awaitUntil("the serving workers' 20 reports") { seen.count { it.first != standby.id } >= 20 }
                // Serving workers never warm up: everything they saw came from this test.
                seen.filter { it.first != standby.id }.all { it.second.startsWith("request false test / ") } shouldBe true

                killServing(w)
                var answered = 0
                awaitUntil("the promoted standby answers") {
                    if (ask(port) == standby.id) answered++
                    answered >= 3
                }
                awaitUntil("the promoted worker's reports") { seen.of(standby.id).size >= 1 + answered }
                // Reports from one worker keep their order: the warm-up came first and alone, while it was a standby, and its load
                // counters (what its load reports and the least-connections balancer see) count the client requests only.
                seen.of(standby.id) shouldBe
                    listOf("request true kcluster-warmup /warm 0") + (1..answered).map { "request false test / $it" }
            }
        }

        test("a pipeline without an HTTP codec gets one connection and no bytes") {
            cluster("raw") { w, standby, seen ->
                val port = w.listeningAddresses.single().port
                killServing(w)
                awaitUntil("the promoted standby takes a client connection") {
                    Socket("127.0.0.1", port).use { it.getOutputStream().write('x'.code) }
                    "connection false" in seen.of(standby.id)
                }
                seen.of(standby.id).takeWhile { it != "connection false" } shouldBe listOf("connection true")
            }
        }

        test("standbyWarmup(null): the standby is held without any connection") {
            cluster("off") { w, standby, seen ->
                val port = w.listeningAddresses.single().port
                killServing(w)
                awaitUntil("the promoted standby answers") { ask(port) == standby.id }
                awaitUntil("its report") { seen.of(standby.id).isNotEmpty() }
                seen.of(standby.id).first() shouldBe "request false test / 1"
            }
        }

        test("standbyWarmup takes a path, or null") {
            ServeOptions.DEFAULT.standbyWarmup shouldBe "/"
            ServeOptions.builder().standbyWarmup(null).build().standbyWarmup shouldBe null
            ServeOptions.builder().standbyWarmup("/health?deep=1").build().standbyWarmup shouldBe "/health?deep=1"
            for (bad in listOf("health", "/a b", "/a\r\nX: y", "")) {
                shouldThrow<IllegalArgumentException> { ServeOptions.builder().standbyWarmup(bad).build() }.message shouldContain
                    "standbyWarmup must be a path"
            }
        }
    })
