package dev.kcluster

import dev.kcluster.internal.group.BroadcastLimit
import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout

/** A watcher without a group is a one-host group: `hosts`, `broadcast(allHosts = true)` and `restartAllHosts` act on it alone. */
class OneHostGroupTest :
    FunSpec({
        test("hosts holds this watcher alone; allHosts broadcasts locally under the limits; restartAllHosts restarts this host") {
            withWatcher(testConfig(EchoWorker::class.java), 2) { w ->
                val me = w.hosts.value.single()
                me.pid shouldBe ProcessHandle.current().pid()
                me.id shouldBe "${me.host}-${me.pid}"
                me.phase shouldBe "RUNNING"
                me.workers.map { it.pid } shouldBe w.workers.map { it.pid }
                w.broadcast(Message.ofString("everyone"), allHosts = true) shouldBe 1
                withTimeout(30_000) { w.messages.filter { it.message.asString().startsWith("echo:everyone") }.take(2).toList() }
                shouldThrow<IllegalArgumentException> { w.broadcast(Message.ofBytes(ByteArray(64 * 1024 + 1)), allHosts = true) }
                    .message shouldBe "a cluster-wide broadcast holds at most 65536 bytes (64 KiB); this one has 65537 bytes"
                val r = w.restartAllHosts().single()
                r.member shouldBe me.id
                r.outcome shouldBe HostRestart.Outcome.RESTARTED
                r.replaced shouldBe 2
            }
        }

        test("a group without the cluster-zookeeper module fails start with one message naming the module") {
            val w = ClusterWatcher(testConfig(EchoWorker::class.java) { group(GroupConfig("zk1:2181", "shop")) })
            shouldThrow<IllegalStateException> { w.start(1) }.message shouldBe
                "group 'shop' (ZooKeeper zk1:2181) needs the cluster-zookeeper module on the watcher's classpath"
            w.workers.size shouldBe 0
            w.close()
        }

        test("the broadcast rate limit: a burst of 20, then 10 per second, and a clear error past it") {
            var now = 0L
            val limit = BroadcastLimit(clock = { now })
            repeat(20) { limit.take(10) }
            shouldThrow<IllegalStateException> { limit.take(10) }.message shouldContain
                "rate limit: at most 10 per second per watcher (bursts of 20); this one was not sent"
            now += 100_000_000 // 100 ms: one more token
            limit.take(10)
            shouldThrow<IllegalStateException> { limit.take(10) }
            now += 10_000_000_000 // refills to the burst, not beyond
            repeat(20) { limit.take(10) }
            shouldThrow<IllegalStateException> { limit.take(10) }
        }
    })
