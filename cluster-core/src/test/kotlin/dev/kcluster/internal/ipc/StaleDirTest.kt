package dev.kcluster.internal.ipc

import dev.kcluster.testing.EchoWorker
import dev.kcluster.testing.WatcherMain
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.ipcDirOf
import dev.kcluster.testing.signal
import dev.kcluster.testing.startJvm
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.FileTime
import java.util.concurrent.TimeUnit

class StaleDirTest :
    FunSpec({
        fun watcherJvm(): Pair<Process, Long> {
            val p = startJvm(WatcherMain::class.java, "1")
            Thread { runCatching { p.errorStream.readAllBytes() } }
                .apply {
                    isDaemon = true
                    start()
                }
            val line = p.inputStream.bufferedReader().readLine() ?: error("watcher ${p.pid()} printed nothing")
            return p to line.removePrefix("PIDS ").trim().toLong()
        }

        test("the next watcher removes a SIGKILLed watcher's directory at once and never touches a live one's") {
            val (killed, killedWorker) = watcherJvm()
            val (live, liveWorker) = watcherJvm()
            val killedDir = ipcDirOf(killedWorker)
            val liveDir = ipcDirOf(liveWorker)
            try {
                Files.readString(killedDir.resolve(PrivateDir.OWNER_FILE)).trim().substringBefore(' ') shouldBe killed.pid().toString()
                killed.destroyForcibly()
                killed.waitFor(30, TimeUnit.SECONDS) shouldBe true
                awaitUntil("the killed watcher's worker gone") { !ProcessHandle.of(killedWorker).map { it.isAlive }.orElse(false) }
                Files.exists(killedDir) shouldBe true // seconds old: the old rule (a minute) would keep it
                withWatcher(testConfig(EchoWorker::class.java), 1) {
                    Files.exists(killedDir) shouldBe false
                    Files.exists(liveDir.resolve("ipc.sock")) shouldBe true
                    Files.exists(liveDir.resolve(PrivateDir.OWNER_FILE)) shouldBe true
                }
                // The live watcher still works: its worker is connected, and it cleans up after itself.
                ProcessHandle.of(liveWorker).map { it.isAlive }.orElse(false) shouldBe true
                signal(live.pid(), "TERM")
                live.waitFor(30, TimeUnit.SECONDS) shouldBe true
                Files.exists(liveDir) shouldBe false
            } finally {
                killed.destroyForcibly()
                live.destroyForcibly()
                PrivateDir.delete(killedDir)
                PrivateDir.delete(liveDir)
            }
        }

        test("owner files: a dead or reused pid is stale whatever the age, a live owner is kept whatever the age") {
            val base = Files.createTempDirectory("sweep-owner")
            try {
                val me = ProcessHandle.current().pid()
                val myStart = PrivateDir.startTime(me)!!
                val exited = ProcessBuilder("true").start().also { it.waitFor() }.pid()
                fun dir(name: String, owner: String?, ageMillis: Long = 0): Path =
                    Files.createDirectory(base.resolve(name)).also { d ->
                        Files.createFile(d.resolve("ipc.sock")) // a socket file nobody listens on
                        owner?.let { Files.writeString(d.resolve(PrivateDir.OWNER_FILE), it) }
                        Files.setLastModifiedTime(d, FileTime.fromMillis(System.currentTimeMillis() - ageMillis))
                    }
                val dead = dir("kcluster-dead", "$exited 12345\n")
                val reused = dir("kcluster-reused", "$me ${myStart - 1}\n")
                val mine = dir("kcluster-mine", "$me $myStart\n", ageMillis = 3_600_000)
                val malformedFresh = dir("kcluster-malformed", "garbage")
                val noOwnerOld = dir("kcluster-old", null, ageMillis = 120_000)
                PrivateDir.sweepStale(base)
                Files.exists(dead) shouldBe false
                Files.exists(reused) shouldBe false
                Files.exists(mine) shouldBe true
                Files.exists(malformedFresh) shouldBe true // no usable owner and new: maybe being created right now
                Files.exists(noOwnerOld) shouldBe false
                PrivateDir.startTime(exited) shouldBe null
                PrivateDir.startTime(me) shouldNotBe null
            } finally {
                PrivateDir.delete(base)
            }
        }
    })
