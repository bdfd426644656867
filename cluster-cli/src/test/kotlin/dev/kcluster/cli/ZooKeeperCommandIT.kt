package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.testing.awaitUntil
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.serialization.builtins.ListSerializer
import org.apache.curator.test.TestingServer

/** End-to-end: two `cluster --zookeeper` processes (fat jar) in one group against a real ZooKeeper server. */
class ZooKeeperCommandIT :
    FunSpec({
        val h = CliHarness()
        val zk = TestingServer(true)
        afterSpec {
            h.cleanUp()
            zk.close()
            ZooKeeperTestFiles.clean()
        }
        val base = arrayOf("-cp", h.testClasses) + h.workerJvm
        val target = TestServer::class.java.name

        test("two hosts join a group with digest credentials; status --all-hosts lists both, one leading a worker") {
            val auth = h.dir.resolve("zk.auth")
            Files.writeString(auth, "kc:s3cret\n")
            Files.setPosixFilePermissions(auth, PosixFilePermissions.fromString("rw-------"))
            val zkArgs = arrayOf("--zookeeper", zk.connectString, "--group", "cli", "--zk-auth-file", "$auth", "--zk-session-timeout", "4s")
            val pa = h.dir.resolve("a.pid")
            val pb = h.dir.resolve("b.pid")
            val a = h.start("-w", "1", "-p", "$pa", *zkArgs, *base, target)
            val b = h.start("-w", "2", "-p", "$pb", *zkArgs, *base, target)
            fun hosts(): List<HostStatus>? {
                val r = h.run("status", "-p", "$pa", "--all-hosts", "--json")
                if (r.code != 0) return null
                return ControlProtocol.json.decodeFromString(ListSerializer(HostStatus.serializer()), r.stdout)
            }
            withClue({ "$a\n$b" }) {
                awaitUntil("two members, one leading") {
                    hosts()?.let { l -> l.size == 2 && l.count { it.leaderWorker != null } == 1 } == true
                }
                val l = hosts()!!
                l.map { it.watcherPid }.toSet() shouldBe setOf(a.pid, b.pid)
                l.first { it.watcherPid == b.pid }.ready shouldBe 2
                l.single { it.leaderWorker != null }.leaderEpoch shouldBe 1L
                val table = h.run("status", "-p", "$pb", "--all-hosts")
                table.code shouldBe 0
                table.stdout shouldContain "2 hosts"
                table.stdout.lines().filter { "RUNNING" in it } shouldHaveSize 2

                val wrong = h.dir.resolve("wrong.auth")
                Files.writeString(wrong, "kc:nope")
                Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rw-------"))
                val c = h.run("-w", "1", "--zookeeper", zk.connectString, "--group", "cli", "--zk-auth-file", "$wrong", *base, target)
                c.code shouldBe 1
                c.stderr shouldContain "refused access to /kcluster/cli for digest user 'kc'"

                val loose = h.dir.resolve("loose.auth")
                Files.writeString(loose, "kc:s3cret")
                Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"))
                val d = h.run("-w", "1", "--zookeeper", zk.connectString, "--group", "cli", "--zk-auth-file", "$loose", *base, target)
                d.code shouldBe 1
                d.stderr shouldContain "chmod 600"

                val plain = h.run("status", "-p", "$pa")
                plain.code shouldBe 0
                h.run("stop", "-p", "$pa").code shouldBe 0
                a.awaitExit() shouldBe 0
                awaitUntil("host a left the group") {
                    hosts().let { it == null } &&
                        h.run("status", "-p", "$pb", "--all-hosts", "--json").stdout.let { "\"watcherPid\":${a.pid}" !in it }
                }
                h.run("stop", "-p", "$pb").code shouldBe 0
                b.awaitExit() shouldBe 0
            }
        }

        test("a ZooKeeper that never answers: the cluster starts in degraded mode after the connection timeout, serves, and stops") {
            // accepts connections and never says a word
            ServerSocket(0, 50, InetAddress.getLoopbackAddress()).use { silent ->
                val held = CopyOnWriteArrayList<Socket>()
                Thread { runCatching { while (true) held += silent.accept() } }
                    .apply {
                        isDaemon = true
                        start()
                    }
                val p = h.dir.resolve("silent.pid")
                val t0 = System.nanoTime()
                val s = h.start("-w", "1", "-p", "$p", "--zookeeper", "127.0.0.1:${silent.localPort}", "--group", "silent", *base, target)
                withClue({ "$s" }) {
                    awaitUntil("the degraded mode is logged", 30_000) { "did not answer" in s.stderr }
                    val ms = (System.nanoTime() - t0) / 1_000_000
                    println("NUMBER cluster with a silent ZooKeeper: degraded mode logged after $ms ms")
                    s.stderr shouldContain "degraded mode"
                    s.stderr.lines().count { "did not answer" in it } shouldBe 1
                    h.status(p).workers.single().state shouldBe "READY"
                    h.run("status", "-p", "$p", "--all-hosts").let { r ->
                        r.code shouldBe 0
                        // not joined yet: the hosts are this watcher alone (ClusterWatcher.hosts without a group)
                        r.stdout shouldContain "1 host\n"
                        r.stdout shouldContain "  ${s.pid}  RUNNING  1/1 ready"
                    }
                    held.size shouldBeGreaterThan 0
                    h.run("stop", "-p", "$p").code shouldBe 0
                    s.awaitExit(30) shouldBe 0
                }
                held.forEach { it.close() }
            }
        }

        test("--zookeeper without --group is a usage error; status --all-hosts without --zookeeper is one clear error") {
            h.run("--zookeeper", zk.connectString, *base, target).let { r ->
                r.code shouldBe 2
                r.stderr shouldContain "--zookeeper and --group go together"
            }
            h.run("-w", "1", "--zookeeper", "zk1:notaport", "--group", "g", *base, target).let { r ->
                r.code shouldBe 1
                r.stderr shouldContain "bad ZooKeeper connect string"
            }
            val p = h.dir.resolve("solo.pid")
            val s = h.start("-w", "1", "-p", "$p", *base, target)
            awaitUntil("solo cluster up") { h.run("status", "-p", "$p").code == 0 }
            val r = h.run("status", "-p", "$p", "--all-hosts")
            r.code shouldBe 1
            r.stderr shouldContain "without --zookeeper"
            h.run("stop", "-p", "$p").code shouldBe 0
            s.awaitExit() shouldBe 0
        }
    })
