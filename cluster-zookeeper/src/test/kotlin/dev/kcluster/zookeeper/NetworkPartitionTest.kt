package dev.kcluster.zookeeper

import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.zookeeper.testing.GrantEvent
import dev.kcluster.zookeeper.testing.GroupWatcher
import dev.kcluster.zookeeper.testing.Jvm
import dev.kcluster.zookeeper.testing.NetworkHosts
import dev.kcluster.zookeeper.testing.awaitUntil
import dev.kcluster.zookeeper.testing.holders
import dev.kcluster.zookeeper.testing.killAllStarted
import dev.kcluster.zookeeper.testing.overlap
import dev.kcluster.zookeeper.testing.readGrants
import dev.kcluster.zookeeper.testing.startJvm
import dev.kcluster.zookeeper.testing.tempFile
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.Enabled
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.time.Instant
import org.apache.curator.framework.CuratorFramework
import org.apache.curator.framework.CuratorFrameworkFactory
import org.apache.curator.retry.RetryOneTime
import org.apache.curator.test.InstanceSpec
import org.apache.curator.test.TestingServer

/**
 * Hosts as network namespaces (issue 14). Three watcher JVMs (one LeaderWorker each), each in its own network namespace behind a veth pair
 * to one bridge in the root namespace, where a ZooKeeper server (in this JVM) listens. Cutting the leading host's link (its veth's root end
 * down: the host hears silence, no error) ends its leadership within the session timeout, another host is granted without overlap, and the
 * cut host keeps serving HTTP on its own loopback; restoring the link brings it back as a member and a follower.
 *
 * Needs root and iproute2 (`ip`); skipped otherwise, with the reason. Everything it creates is named `kcnt…<pid>…` and removed at the end,
 * and leftovers of a killed run are swept at the start.
 */
class NetworkPartitionTest :
    FunSpec({
        val session = 4_000L
        val unavailable = NetworkHosts.unavailable()

        test("a host whose link is cut loses leadership within the session timeout, keeps serving locally, and rejoins as a follower")
            .config(enabledOrReasonIf = { if (unavailable == null) Enabled.enabled else Enabled.disabled(unavailable) }) {
                // tickTime 500 ms: the server expires sessions on 500 ms ticks (the default would round expiry up to 3 s more)
                val zk = TestingServer(InstanceSpec(null, -1, -1, -1, true, 1, 500, -1), true)
                val log = tempFile("netns-grants")
                try {
                    val net = NetworkHosts(3)
                    try {
                        val reader = CuratorFrameworkFactory.newClient(zk.connectString, RetryOneTime(100)).apply { start() }
                        try {
                            cutAndRestore(zk, net, reader, log, session)
                        } finally {
                            reader.close()
                            killAllStarted()
                        }
                    } finally {
                        net.close()
                    }
                } finally {
                    zk.close()
                    ZooKeeperTestFiles.clean()
                    log.delete()
                }
                awaitUntil("every namespace and link of this test is gone", 10_000) { NetworkHosts.leftovers().isEmpty() }
            }
    })

/** The scenario: three hosts join; the leader's link is cut, then restored. */
private suspend fun cutAndRestore(zk: TestingServer, net: NetworkHosts, reader: CuratorFramework, log: File, session: Long) {
    val group = "netns"
    val port = 8080 // every host has its own loopback
    val connect = "${net.gateway}:${zk.port}"

    class Host(val net: NetworkHosts.Host, val jvm: Jvm, val id: String)

    val hosts =
        net.hosts
            .map { h ->
                h to
                    startJvm(
                        GroupWatcher::class.java,
                        connect,
                        group,
                        "1",
                        port.toString(),
                        log.path,
                        session.toString(),
                        h.name,
                        wrapper = net.exec(h),
                    )
            }
            .map { (h, jvm) ->
                val joined = jvm.awaitLine("JOINED")
                withClue({ jvm.stderr.readText() }) { joined shouldContain " CONNECTED " }
                Host(h, jvm, joined.split(' ')[3])
            }
    fun workerOf(h: Host): Long = h.jvm.process.descendants().findFirst().get().pid()
    fun hostsSeenBy(h: Host, from: Int = 0): List<String>? =
        h.jvm.seen.drop(from).lastOrNull { it.startsWith("HOSTS") }?.split(' ')?.drop(1)

    awaitUntil("every host sees the three members") { hosts.all { hostsSeenBy(it)?.size == 3 } }
    awaitUntil("one leader") { holders(readGrants(log)).size == 1 }
    for (h in hosts) net.httpGet(h.net, port)!! shouldContain "worker"

    // cut the leading host's link
    val leaderPid = holders(readGrants(log)).single()
    val cut = hosts.single { workerOf(it) == leaderPid }
    val others = hosts - cut
    val grantsBefore = readGrants(log).size
    val mark = cut.jvm.seen.size
    val cutAt = nowMicros()
    net.cut(cut.net)
    val revoke = awaitGrantEvent("the cut host revokes", log, grantsBefore, session + 5_000) { !it.granted && it.workerPid == leaderPid }
    val grant = awaitGrantEvent("another host is granted", log, grantsBefore, session + 10_000) { it.granted && it.workerPid != leaderPid }
    val revokeMs = (revoke.micros - cutAt) / 1_000
    val grantMs = (grant.micros - cutAt) / 1_000
    println(
        "NUMBER link of the leading host cut (session timeout $session ms): its leadership revoked after $revokeMs ms, " +
            "another host granted after $grantMs ms"
    )
    revokeMs shouldBeLessThan session
    grantMs shouldBeLessThan session + 1_000
    overlap(readGrants(log)) shouldBe null
    val newLeader = hosts.single { workerOf(it) == grant.workerPid }
    newLeader shouldNotBe cut
    awaitUntil("the others drop the cut host (its session expired)", session + 10_000) {
        others.all { o -> hostsSeenBy(o)?.let { cut.id !in it && it.size == 2 } == true }
    }
    awaitUntil("the cut host knows its session is lost", session * 3) { "CONNECTION LOST" in cut.jvm.seen.drop(mark) }
    // degraded mode: still serving on its own loopback, without leadership
    net.httpGet(cut.net, port)!! shouldContain "leader false"
    net.httpGet(newLeader.net, port)!! shouldContain "leader true"

    // restore it: it rejoins, as a follower
    val restoredAt = nowMicros()
    net.restore(cut.net)
    awaitUntil("the cut host reconnects", 30_000) { "CONNECTION CONNECTED" in cut.jvm.seen.drop(mark) }
    awaitUntil("the others see the cut host again", 30_000) { others.all { hostsSeenBy(it)?.contains(cut.id) == true } }
    val rejoinMs = (nowMicros() - restoredAt) / 1_000
    awaitUntil("the cut host is back in the leader election", 30_000) {
        runCatching { electionOf(reader, group) }.getOrNull()?.contains(cut.id) == true
    }
    println("NUMBER link restored: the host was a member again after $rejoinMs ms")
    val election = electionOf(reader, group)
    election.size shouldBe 3
    election.first() shouldBe newLeader.id
    holders(readGrants(log)) shouldBe setOf(grant.workerPid)
    readGrants(log).last { it.granted } shouldBe grant
    overlap(readGrants(log)) shouldBe null
    cut.jvm.seen.drop(mark) shouldNotContain "LEADING true"
    net.httpGet(cut.net, port)!! shouldContain "leader false"
    awaitUntil("every host sees the three members again") { hosts.all { h -> hostsSeenBy(h)?.toSet() == hosts.map { it.id }.toSet() } }
    withClue({ cut.jvm.stderr.readText() }) {
        // each change of the link to ZooKeeper is logged once
        cut.jvm.stderrCount("ZooKeeper connection suspended: this host's leadership is revoked") shouldBe 1
        cut.jvm.stderrCount("ZooKeeper session lost: serving with local workers") shouldBe 1
        cut.jvm.seen.filter { it.startsWith("CONNECTION") } shouldContain "CONNECTION SUSPENDED"
    }
}

private fun nowMicros(): Long = Instant.now().let { it.epochSecond * 1_000_000 + it.nano / 1_000 }

private suspend fun awaitGrantEvent(what: String, log: File, after: Int, timeoutMillis: Long, match: (GrantEvent) -> Boolean): GrantEvent {
    awaitUntil(what, timeoutMillis) { readGrants(log).drop(after).any(match) }
    return readGrants(log).drop(after).first(match)
}

/** The member ids in the group's leader election, in latch order (the first holds it). */
private fun electionOf(c: CuratorFramework, group: String): List<String> {
    val path = "/kcluster/$group/leader"
    return c.children.forPath(path).sortedBy { it.substringAfterLast("-latch-") }.map { c.data.forPath("$path/$it").decodeToString() }
}
