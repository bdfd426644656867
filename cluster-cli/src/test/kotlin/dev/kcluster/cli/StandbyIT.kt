package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.awaitValue
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.io.IOException
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.jar.JarEntry
import java.util.jar.JarOutputStream

/**
 * End-to-end, through the fat jar: `--standby 1` under a client loop. A SIGKILLed worker's place goes to the standby, which never answered
 * before; a new standby follows; and after a jar change and `cluster reload`, the serving workers and the standby run the new jar.
 */
class StandbyIT :
    FunSpec({
        val h = CliHarness()
        afterSpec { h.cleanUp() }

        /** Writes [jar] holding only `kcl-version.txt` = [version], replacing it atomically (as a deploy would). */
        fun writeVersionJar(jar: Path, version: String) {
            val tmp = jar.resolveSibling("${jar.fileName}.tmp")
            JarOutputStream(Files.newOutputStream(tmp)).use {
                it.putNextEntry(JarEntry("kcl-version.txt"))
                it.write(version.toByteArray())
                it.closeEntry()
            }
            Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
        }

        /** One answer ("worker <id> <version>") on a new connection, or null. */
        fun ask(port: Int): String? =
            try {
                Socket("127.0.0.1", port).use { s ->
                    s.soTimeout = 5_000
                    s.getInputStream().bufferedReader().readLine()
                }
            } catch (e: IOException) {
                null
            }

        fun ClusterStatus.serving() = workers.filter { it.state == "READY" }

        fun ClusterStatus.standbys() = workers.filter { it.state == "STANDBY" }

        test("a killed worker's place goes to the standby, a new standby follows, and a reload gives both the new jar") {
            val jar = h.dir.resolve("app.jar")
            writeVersionJar(jar, "v1")
            val pid = h.dir.resolve("s.pid")
            val log = h.dir.resolve("s.log")
            val w =
                h.start(
                    "-w",
                    "2",
                    "--standby",
                    "1",
                    "--class-cache",
                    "off",
                    "-p",
                    "$pid",
                    "-f",
                    "$log",
                    "-cp",
                    "${h.testClasses}:$jar",
                    *h.workerJvm.toTypedArray(),
                    TestServer::class.java.name,
                    "versioned",
                )
            val answers = CopyOnWriteArrayList<Pair<Long, String>>() // (System.nanoTime() when read, answer)
            val running = AtomicBoolean(true)
            var client: Thread? = null
            withClue({ "log:\n${if (Files.exists(log)) Files.readString(log) else ""}\n$w" }) {
                val s0 =
                    awaitValue("2 serving workers and a standby", 60_000, 250) {
                        h.status(pid).takeIf { it.serving().size == 2 && it.standbys().size == 1 }
                    }
                val port = s0.listening.single().substringAfterLast(':').toInt()
                val standby = s0.standbys().single()
                standby.slot shouldBe 0
                val serving = s0.serving().map { it.id }.toSet()
                client =
                    Thread {
                            while (running.get()) {
                                ask(port)?.let { answers += System.nanoTime() to it }
                                Thread.sleep(2) // pacing: a few hundred connections a second, not a busy core
                            }
                        }
                        .apply {
                            isDaemon = true
                            start()
                        }
                fun idOf(answer: String) = answer.removePrefix("worker ").substringBefore(' ').toInt()
                awaitUntil("the client loop gets answers") { answers.size >= 20 }

                val victim = s0.serving().first()
                val killedAt = System.nanoTime()
                h.signal(victim.pid, "KILL")
                awaitUntil("the former standby answers", 30_000) { answers.any { idOf(it.second) == standby.id } }
                answers.first { idOf(it.second) !in serving }.second shouldBe "worker ${standby.id} v1"
                answers.filter { idOf(it.second) == standby.id && it.first < killedAt }.shouldBeEmpty()
                val s1 =
                    awaitValue("a new standby", 60_000, 250) {
                        h.status(pid).takeIf { s ->
                            s.serving().size == 2 && s.standbys().singleOrNull()?.id.let { it != null && it != standby.id }
                        }
                    }
                s1.serving().map { it.id }.toSet() shouldBe setOf(standby.id, (serving - victim.id).single())
                s1.workers.single { it.id == standby.id }.slot shouldBe victim.slot

                writeVersionJar(jar, "v2")
                val r = h.run("reload", "-p", "$pid")
                withClue(r) { r.code shouldBe 0 }
                val s2 =
                    awaitValue("2 serving workers and a standby after the reload", 60_000, 250) {
                        h.status(pid).takeIf { it.serving().size == 2 && it.standbys().size == 1 }
                    }
                val before = s1.workers.map { it.id }.toSet()
                withClue("every worker and standby is new after the reload: $s2") { s2.workers.filter { it.id in before }.shouldBeEmpty() }
                val reloaded = System.nanoTime()
                awaitUntil("only v2 answers", 30_000) {
                    answers.filter { it.first > reloaded }.takeLast(20).let { it.size == 20 && it.all { a -> a.second.endsWith(" v2") } }
                }
                val after = s2.workers.map { it.id }.toSet()
                answers.filter { idOf(it.second) in after }.filterNot { it.second.endsWith(" v2") }.shouldBeEmpty()

                // The standby runs the new jar too: promote it.
                val standby2 = s2.standbys().single()
                standby2.id shouldNotBe standby.id
                val killed2At = System.nanoTime()
                h.signal(s2.serving().first().pid, "KILL")
                awaitUntil("the new standby answers after its promotion", 30_000) { answers.any { idOf(it.second) == standby2.id } }
                answers.filter { idOf(it.second) == standby2.id }.map { it.second }.toSet() shouldBe setOf("worker ${standby2.id} v2")
                answers.filter { idOf(it.second) == standby2.id && it.first < killed2At }.shouldBeEmpty()

                running.set(false)
                client?.join(10_000)
                h.run("stop", "-p", "$pid").code shouldBe 0
                w.awaitExit(30) shouldBe 0
            }
            running.set(false)
        }
    })
