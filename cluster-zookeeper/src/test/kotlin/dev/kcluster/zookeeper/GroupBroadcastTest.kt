package dev.kcluster.zookeeper

import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.zookeeper.testing.GroupHost
import dev.kcluster.zookeeper.testing.Jvm
import dev.kcluster.zookeeper.testing.awaitUntil
import dev.kcluster.zookeeper.testing.freePort
import dev.kcluster.zookeeper.testing.killAllStarted
import dev.kcluster.zookeeper.testing.startJvm
import dev.kcluster.zookeeper.testing.tempFile
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import org.apache.curator.test.TestingServer

/** Watcher JVMs joined through `WatcherConfig.group` (the ServiceLoader extension), real worker JVMs, a real ZooKeeper server. */
class GroupBroadcastTest :
    FunSpec({
        val zk = TestingServer(true)
        val messages = tempFile("broadcasts")
        afterSpec {
            killAllStarted()
            zk.close()
            ZooKeeperTestFiles.clean()
            messages.delete()
        }

        class Host(val jvm: Jvm) {
            fun ask(command: String): String {
                jvm.process.outputStream.write("$command\n".toByteArray())
                jvm.process.outputStream.flush()
                return jvm.awaitLine(command.substringBefore(' ').let { if (it == "BURST" || it == "HOSTS") it else "" }, 30_000)
            }

            val workers: Set<Long>
                get() = jvm.process.descendants().map { it.pid() }.toList().toSet()
        }

        fun startHost(workers: Int = 2): Host {
            val jvm = startJvm(GroupHost::class.java, zk.connectString, "shop", workers.toString(), freePort().toString(), messages.path)
            jvm.awaitLine("JOINED")
            return Host(jvm)
        }

        /** `<worker pid> <text>` lines of the message log. */
        fun received(): List<Pair<Long, String>> =
            if (!messages.exists()) emptyList()
            else messages.readLines().filter { it.isNotBlank() }.map { it.substringBefore(' ').toLong() to it.substringAfter(' ') }

        fun count(text: String) = received().count { it.second == text }

        test("allHosts reaches every worker on every host exactly once, not a host that joins later; size and rate limits; degraded mode") {
            val hosts = listOf(startHost(), startHost(), startHost())
            awaitUntil("every host sees three members", 20_000) { hosts.all { it.ask("HOSTS") == "HOSTS 3" } }
            val allWorkers = hosts.flatMap { it.workers }.toSet()
            allWorkers shouldHaveSize 6

            hosts[0].ask("BROADCAST hello-1") shouldBe "SENT 3"
            hosts[1].ask("BROADCAST hello-2") shouldBe "SENT 3"
            hosts[2].ask("BROADCAST end") shouldBe "SENT 3"
            // delivery is ordered per host, so once every worker has "end", every earlier broadcast is in
            awaitUntil("every worker got 'end'", 15_000) { count("end") == 6 }
            for (text in listOf("hello-1", "hello-2", "end")) {
                withClue(text) { received().filter { it.second == text }.map { it.first }.sorted() shouldBe allWorkers.sorted() }
            }

            // a host that joins now replays nothing
            val late = startHost()
            awaitUntil("the late host sees four members", 20_000) { late.ask("HOSTS") == "HOSTS 4" }
            hosts[0].ask("BROADCAST after-join") shouldBe "SENT 4"
            awaitUntil("all eight workers got 'after-join'", 15_000) { count("after-join") == 8 }
            received().filter { it.first in late.workers }.map { it.second }.toSet() shouldBe setOf("after-join")

            // 64 KiB is the limit
            hosts[1].ask("SIZE 65537") shouldBe
                "ERROR IllegalArgumentException: a cluster-wide broadcast holds at most 65536 bytes (64 KiB); this one has 65537 bytes"
            hosts[1].ask("SIZE 65536") shouldStartWith "SENT"
            awaitUntil("every worker got the 64 KiB broadcast", 15_000) { count("bytes:65536") == 8 }

            // the rate limit: a burst of 20, then a clear error (nothing dropped silently)
            val burst = hosts[2].ask("BURST 40")
            burst shouldContain "rate limit: at most 10 per second per watcher (bursts of 20); this one was not sent"
            val sent = burst.substringAfter("sent=").substringBefore(' ').toInt()
            sent shouldBeInRange 18..22
            awaitUntil("every sent burst broadcast reached all eight workers", 15_000) {
                received().count { it.second.startsWith("burst-") } == sent * 8
            }

            // ZooKeeper gone: a clear error, the hosts keep serving
            zk.stop()
            awaitUntil("host 0 notices", 20_000) { hosts[0].ask("BROADCAST down").contains("not connected") }
            hosts[0].ask("BROADCAST down") shouldContain "ZooKeeper is not connected"
            hosts[0].ask("BROADCAST down") shouldContain "degraded mode"
        }
    })
