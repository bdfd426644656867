package dev.kcluster.zookeeper

import dev.kcluster.ClusterWatcher
import dev.kcluster.GroupMember
import dev.kcluster.WatcherConfig
import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.zookeeper.testing.DslLeaderProgram
import dev.kcluster.zookeeper.testing.LeaderWorker
import dev.kcluster.zookeeper.testing.TEST_JVM
import dev.kcluster.zookeeper.testing.awaitUntil
import dev.kcluster.zookeeper.testing.freePort
import dev.kcluster.zookeeper.testing.holders
import dev.kcluster.zookeeper.testing.httpGet
import dev.kcluster.zookeeper.testing.overlap
import dev.kcluster.zookeeper.testing.readGrants
import dev.kcluster.zookeeper.testing.signal
import dev.kcluster.zookeeper.testing.tempFile
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.net.ServerSocket
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import org.apache.curator.framework.CuratorFrameworkFactory
import org.apache.curator.retry.RetryOneTime
import org.apache.curator.test.TestingServer
import org.apache.zookeeper.KeeperException

/** Watchers in this JVM, real worker JVMs, a real ZooKeeper server (curator-test). */
class MembershipTest :
    FunSpec({
        val zk = TestingServer(true)
        val closing = CopyOnWriteArrayList<AutoCloseable>()
        afterTest {
            closing.reversed().forEach { runCatching { it.close() } }
            closing.clear()
        }
        afterSpec {
            zk.close()
            ZooKeeperTestFiles.clean()
        }

        suspend fun watcher(workers: Int, port: Int, log: File): ClusterWatcher {
            val w =
                ClusterWatcher(
                    WatcherConfig(LeaderWorker::class.java.name) {
                        jvmOptions(TEST_JVM)
                        args(port.toString(), log.path)
                    }
                )
            closing += w
            w.start(workers)
            return w
        }

        fun join(
            w: ClusterWatcher,
            host: String,
            group: String,
            configure: ZooKeeperMembership.Builder.() -> Unit = {},
        ): ZooKeeperMembership =
            ZooKeeperMembership(w) {
                    connect(zk.connectString)
                    group(group)
                    hostName(host)
                    sessionTimeout(4.seconds)
                    configure()
                }
                .also { closing += it }

        test("a watcher registers its host, pid, workers and addresses, sees the other members, and leaves on close") {
            val log = tempFile("grants").also { it.deleteOnExit() }
            val port = freePort()
            val w = watcher(2, port, log)
            val a = join(w, "host-a", "members")
            a.connection.value shouldBe GroupConnection.CONNECTED
            val b = join(watcher(1, freePort(), log), "host-b", "members") { leadership(false) }
            val seen = CopyOnWriteArrayList<List<GroupMember>>()
            closing += b.onHosts { seen += it }
            withTimeout(15_000) { a.hosts.first { it.size == 2 } }
            val me = a.hosts.value.first { it.id == a.memberId }
            me.host shouldBe "host-a"
            me.pid shouldBe ProcessHandle.current().pid()
            me.phase shouldBe "RUNNING"
            me.workers.map { it.state } shouldBe listOf("READY", "READY")
            me.workers.map { it.pid } shouldBe w.workers.map { it.pid }
            me.addresses shouldContain "127.0.0.1:$port"
            awaitUntil("the Java listener sees both members") { seen.lastOrNull()?.size == 2 }
            b.close()
            withTimeout(15_000) { a.hosts.first { it.map(GroupMember::id) == listOf(a.memberId) } }
            b.connection.value shouldBe GroupConnection.CLOSED
            log.delete()
        }

        test("leader worker killed: leadership moves within 1 s to another worker on the same host, with a larger epoch") {
            val log = tempFile("grants").also { it.deleteOnExit() }
            val wa = watcher(2, freePort(), log)
            val a = join(wa, "host-a", "kill-worker")
            awaitUntil("host a leads") { a.isLeading.value }
            val wb = watcher(2, freePort(), log)
            join(wb, "host-b", "kill-worker")
            awaitUntil("one worker holds leadership") { holders(readGrants(log)).size == 1 }
            val leader = holders(readGrants(log)).single()
            wa.workers.map { it.pid } shouldContain leader
            val before = readGrants(log).size
            val t0 = System.nanoTime()
            val killedAt = System.currentTimeMillis() * 1000
            signal(leader, "KILL")
            awaitUntil("a new grant", 10_000) { readGrants(log).drop(before).any { it.granted } }
            val ms = (System.nanoTime() - t0) / 1_000_000
            println("NUMBER leadership moved after its worker's SIGKILL in $ms ms")
            val next = readGrants(log).drop(before).first { it.granted }
            next.workerPid shouldNotBe leader
            wa.workers.map { it.pid } shouldContain next.workerPid // same host
            ms shouldBeLessThan 1_000
            overlap(readGrants(log), mapOf(leader to killedAt)) shouldBe null
            // the respawned worker does not take it back; host b never had it
            awaitUntil("the killed worker is respawned") { wa.state.value.readyCount == 2 }
            holders(readGrants(log), setOf(leader)) shouldBe setOf(next.workerPid)
            log.delete()
        }

        test("DSL: onLeadership { } in a worker sees the grant with its epoch, and the revoke when the host leaves") {
            val log = tempFile("dsl").also { it.deleteOnExit() }
            val w =
                ClusterWatcher(
                    WatcherConfig(DslLeaderProgram::class.java.name) {
                        jvmOptions(TEST_JVM)
                        args(log.path)
                    }
                )
            closing += w
            w.start(1)
            val m = join(w, "host-d", "dsl")
            awaitUntil("the DSL worker sees its grant") { log.exists() && log.readLines().any { it.startsWith("GRANT ") } }
            val grant = log.readLines().first { it.startsWith("GRANT ") }.split(' ')
            grant[1].toLong() shouldBe 1L
            grant[2].toInt() shouldBe w.workers.single().id
            m.close()
            awaitUntil("the DSL worker sees the revoke") {
                log.readLines().dropWhile { !it.startsWith("GRANT ") }.any { it.startsWith("REVOKE 1 ") }
            }
            log.delete()
        }

        test("a bad connect string is one clear error at start") {
            val w = watcher(1, freePort(), tempFile("unused"))
            for (bad in listOf("", "zk1:notaport", "zk1:2181,,zk2:2181", "zk1:99999", "::1:2181")) {
                val e =
                    shouldThrow<IllegalArgumentException> {
                        ZooKeeperMembership(w) {
                            connect(bad)
                            group("g")
                        }
                    }
                e.message shouldContain "connect string"
            }
            shouldThrow<IllegalArgumentException> {
                    ZooKeeperMembership(w) {
                        connect(zk.connectString)
                        group("a/b")
                    }
                }
                .message shouldContain "group name"
            shouldThrow<IllegalArgumentException> { ZooKeeperMembership.builder(w).group("g").start() }.message shouldContain "connect("
        }

        test("a ZooKeeper that never answers: start returns after the connection timeout in degraded mode, and the workers serve") {
            val port = freePort()
            val w = watcher(1, port, tempFile("unused"))
            ServerSocket(0).use { silent ->
                val accepted = CopyOnWriteArrayList<java.net.Socket>()
                Thread { runCatching { while (true) accepted += silent.accept() } }
                    .apply {
                        isDaemon = true
                        start()
                    }
                val t0 = System.nanoTime()
                val m =
                    join(w, "host-a", "silent") {
                        connect("127.0.0.1:${silent.localPort}")
                        connectionTimeout(2.seconds)
                    }
                val ms = (System.nanoTime() - t0) / 1_000_000
                ms shouldBeLessThan 6_000
                m.connection.value shouldNotBe GroupConnection.CONNECTED
                m.isLeading.value shouldBe false
                httpGet(port)!! shouldContain "leader false"
                m.close()
                accepted.forEach { it.close() }
            }
        }

        test("credentials: the group's nodes get a digest ACL; a wrong password or none is one clear error") {
            val group = "secured"
            val good = ZooKeeperCredentials.of("kc", "s3cret")
            val a = join(watcher(1, freePort(), tempFile("unused")), "host-a", group) { credentials(good) }
            a.connection.value shouldBe GroupConnection.CONNECTED
            val w = watcher(1, freePort(), tempFile("unused"))
            val wrong =
                shouldThrow<ZooKeeperGroupException> { join(w, "host-b", group) { credentials(ZooKeeperCredentials.of("kc", "wrong")) } }
            wrong.message shouldContain "refused access to /kcluster/secured for digest user 'kc'"
            val none = shouldThrow<ZooKeeperGroupException> { join(w, "host-b", group) }
            none.message shouldContain "without credentials"
            // an anonymous client cannot read the members
            CuratorFrameworkFactory.newClient(zk.connectString, RetryOneTime(100)).use { c ->
                c.start()
                c.blockUntilConnected()
                shouldThrow<KeeperException.NoAuthException> { c.children.forPath("/kcluster/$group/members") }
                // the nodes of cluster-wide broadcasts and restarts carry the group's ACL too
                shouldThrow<KeeperException.NoAuthException> { c.children.forPath("/kcluster/$group/broadcasts") }
                shouldThrow<KeeperException.NoAuthException> { c.children.forPath("/kcluster/$group/reloads") }
            }
            val b = join(w, "host-b", group) { credentials(ZooKeeperCredentials.parse("kc:s3cret\n")) }
            withTimeout(15_000) { b.hosts.first { it.size == 2 } }
            ZooKeeperCredentials.of("kc", "s3cret").toString() shouldBe "ZooKeeperCredentials(user=kc)"
        }
    })

private fun org.apache.curator.framework.CuratorFramework.use(block: (org.apache.curator.framework.CuratorFramework) -> Unit) =
    try {
        block(this)
    } finally {
        close()
    }
