package dev.kcluster.zookeeper

import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.zookeeper.testing.GroupHost
import dev.kcluster.zookeeper.testing.Jvm
import dev.kcluster.zookeeper.testing.awaitUntil
import dev.kcluster.zookeeper.testing.freePort
import dev.kcluster.zookeeper.testing.killAllStarted
import dev.kcluster.zookeeper.testing.signal
import dev.kcluster.zookeeper.testing.startJvm
import dev.kcluster.zookeeper.testing.tempFile
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import org.apache.curator.test.TestingServer

/** `restartAllHosts` across watcher JVMs (joined through `WatcherConfig.group`) when a member dies before its turn. */
class GroupRestartTest :
    FunSpec({
        val zk = TestingServer(true)
        val messages = tempFile("restarts")
        afterSpec {
            killAllStarted()
            zk.close()
            ZooKeeperTestFiles.clean()
            messages.delete()
        }

        fun send(jvm: Jvm, command: String) {
            jvm.process.outputStream.write("$command\n".toByteArray())
            jvm.process.outputStream.flush()
        }

        fun ask(jvm: Jvm, command: String): String {
            send(jvm, command)
            return jvm.awaitLine(command.substringBefore(' '), 60_000)
        }

        test("a member that dies before its turn counts as GONE and does not wedge the roll; the others restart") {
            val jvms =
                (1..3).map {
                    startJvm(GroupHost::class.java, zk.connectString, "restarts", "1", freePort().toString(), messages.path).also {
                        it.awaitLine("JOINED")
                    }
                }
            awaitUntil("every host sees three members", 20_000) { jvms.all { ask(it, "HOSTS") == "HOSTS 3" } }
            val byMember = jvms.associateBy { ask(it, "ME").substringAfter(' ') }.toSortedMap()
            val (first, second, third) = byMember.keys.toList()
            val t0 = System.nanoTime()
            send(byMember.getValue(third), "RESTARTALL")
            signal(byMember.getValue(second).pid, "KILL") // its turn comes after the first host's restart
            val answer = byMember.getValue(third).awaitLine("RESTARTALL", 60_000)
            println("NUMBER restartAllHosts of 3 hosts, one killed before its turn: ${(System.nanoTime() - t0) / 1_000_000} ms")
            answer shouldBe "RESTARTALL $first=RESTARTED,$third=RESTARTED,$second=GONE"
        }
    })
