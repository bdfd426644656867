package dev.kcluster.zookeeper

import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.zookeeper.testing.GroupWatcher
import dev.kcluster.zookeeper.testing.Jvm
import dev.kcluster.zookeeper.testing.awaitUntil
import dev.kcluster.zookeeper.testing.freePort
import dev.kcluster.zookeeper.testing.holders
import dev.kcluster.zookeeper.testing.httpGet
import dev.kcluster.zookeeper.testing.killAllStarted
import dev.kcluster.zookeeper.testing.overlap
import dev.kcluster.zookeeper.testing.readGrants
import dev.kcluster.zookeeper.testing.signal
import dev.kcluster.zookeeper.testing.startJvm
import dev.kcluster.zookeeper.testing.tempFile
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.apache.curator.test.InstanceSpec
import org.apache.curator.test.TestingCluster

/**
 * Three watcher JVMs (one LeaderWorker JVM each), a three-server ZooKeeper ensemble in this JVM. `-Dkcluster.zk.kills=5` measures failover
 * over five leader-watcher kills (default 2).
 */
class FailoverTest :
    FunSpec({
        val session = 4_000L
        val kills = System.getProperty("kcluster.zk.kills")?.toInt() ?: 2
        // tickTime 500 ms: the servers expire sessions on 500 ms ticks (the default rounds up to 2 s more)
        val zk = TestingCluster((1..3).map { InstanceSpec(null, -1, -1, -1, true, it, 500, -1) })
        val log = tempFile("grants")
        val deaths = mutableMapOf<Long, Long>() // worker pid -> micros when its watcher was killed

        class Host(val jvm: Jvm, val port: Int)

        fun startHost(): Host {
            val port = freePort()
            val jvm = startJvm(GroupWatcher::class.java, zk.connectString, "failover", "1", port.toString(), log.path, session.toString())
            jvm.awaitLine("JOINED") shouldContain "CONNECTED"
            return Host(jvm, port)
        }

        fun workerOf(h: Host): Long = h.jvm.process.descendants().findFirst().get().pid()

        /** The ZooKeeper client port the watcher [pid] is connected to (from `ss`). */
        fun zkPortOf(pid: Long): Int? {
            val ports = zk.instances.map { it.port }.toSet()
            val out = ProcessBuilder("ss", "-Htnp", "state", "established").start().inputStream.readBytes().decodeToString()
            return out.lines()
                .filter { "pid=$pid," in it }
                .firstNotNullOfOrNull { l ->
                    l.trim().split(Regex("\\s+")).getOrNull(3)?.substringAfterLast(':')?.toIntOrNull()?.takeIf { it in ports }
                }
        }

        beforeSpec { zk.start() }
        afterSpec {
            killAllStarted()
            zk.close()
            ZooKeeperTestFiles.clean()
            log.delete()
        }

        test("SIGKILL of the leader's watcher: another host is granted within the session timeout + 1 s, never overlapping") {
            val hosts = mutableListOf(startHost(), startHost(), startHost())
            awaitUntil("one leader") { holders(readGrants(log), deaths.keys).size == 1 }
            val times = mutableListOf<Long>()
            repeat(kills) {
                val leader = holders(readGrants(log), deaths.keys).single()
                val victim = hosts.first { workerOf(it) == leader }
                val before = readGrants(log).size
                val t0 = System.nanoTime()
                deaths[leader] = System.currentTimeMillis() * 1000
                signal(victim.jvm.pid, "KILL")
                awaitUntil("a new leader", session + 15_000) { readGrants(log).drop(before).any { it.granted && it.workerPid != leader } }
                val ms = (System.nanoTime() - t0) / 1_000_000
                times += ms
                hosts.remove(victim)
                victim.jvm.kill()
                hosts += startHost()
            }
            println(
                "NUMBER failover after SIGKILL of the leader's watcher (session timeout $session ms): ${times.joinToString()} ms; median ${times.sorted()[times.size / 2]}, max ${times.max()}"
            )
            overlap(readGrants(log), deaths) shouldBe null
            times.forEach { it shouldBeLessThan session + 1_000 }

            // one ZooKeeper server stopped (one the leader is not connected to): nothing changes
            val leader = holders(readGrants(log), deaths.keys).single()
            val leaderHost = hosts.first { workerOf(it) == leader }
            val leaderZk = zkPortOf(leaderHost.jvm.pid)
            val spare = zk.instances.first { it.port != leaderZk }
            val lines = readGrants(log).size
            zk.killServer(spare) shouldBe true
            // others reconnect to other servers meanwhile; the leader's grant must stay
            awaitUntil("every watcher is connected to a live server again", session * 3) {
                hosts.all { h -> zkPortOf(h.jvm.pid).let { it != null && it != spare.port } }
            }
            readGrants(log).drop(lines).shouldBeEmpty()

            // two stopped: no quorum, leadership ends everywhere, HTTP keeps being served
            val second = zk.instances.first { it.port != spare.port && it.port != leaderZk }
            zk.killServer(second) shouldBe true
            awaitUntil("no leader anywhere", session + 5_000) { holders(readGrants(log), deaths.keys).isEmpty() }
            for (h in hosts) httpGet(h.port)!! shouldContain "leader false"

            // restarted: exactly one leader again
            zk.restartServer(spare) shouldBe true
            zk.restartServer(second) shouldBe true
            awaitUntil("one leader again", 60_000) { holders(readGrants(log), deaths.keys).size == 1 }
            overlap(readGrants(log), deaths) shouldBe null
            for (h in hosts) httpGet(h.port)!! shouldContain "worker"
            // the outage lasted several reconnection attempts; each host logged its state changes once each
            for (h in hosts) {
                withClue(h.jvm.stderr.readText()) {
                    h.jvm.stderrCount("ZooKeeper connection suspended") shouldBeInRange 1..3
                    h.jvm.stderrCount("ZooKeeper session lost") shouldBeInRange 0..1
                }
            }
        }
    })

private val TestingCluster.instances: List<InstanceSpec>
    get() = instances.toList()
