package dev.kcluster.cli

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files

class PidFileTest :
    FunSpec({
        val dir = Files.createTempDirectory("kcluster-pid")
        afterSpec { dir.toFile().deleteRecursively() }
        val me = ProcessHandle.current().pid()

        test("acquire writes this process's pid and release removes it") {
            val f = PidFile(dir.resolve("a.pid"))
            val warnings = mutableListOf<String>()
            f.acquire { warnings += it }
            Files.readString(f.path).trim() shouldBe me.toString()
            f.socketPath.toString() shouldBe "${f.path}.sock"
            warnings.shouldBeEmpty()
            f.release()
            Files.exists(f.path) shouldBe false
        }

        test("a stale pid file is replaced with a warning") {
            val dead = ProcessBuilder("true").start().also { it.waitFor() }.pid()
            val path = Files.writeString(dir.resolve("stale.pid"), "$dead\n")
            val warnings = mutableListOf<String>()
            PidFile(path).acquire { warnings += it }
            Files.readString(path).trim() shouldBe me.toString()
            warnings shouldHaveSize 1
            warnings[0] shouldContain "stale pid file"
            warnings[0] shouldContain "$dead"
            Files.writeString(dir.resolve("garbage.pid"), "not a pid")
            PidFile(dir.resolve("garbage.pid")).acquire { warnings += it }
            warnings shouldHaveSize 2
        }

        test("a live pid file refuses, naming the pid and the fix") {
            val other = ProcessBuilder("sleep", "60").start()
            try {
                val path = Files.writeString(dir.resolve("live.pid"), "${other.pid()}\n")
                val e = shouldThrow<PidFileException> { PidFile(path).acquire {} }
                e.message shouldContain "already running with pid ${other.pid()}"
                e.message shouldContain "cluster stop -p"
                PidFile(path).release()
                Files.readString(path).trim() shouldBe other.pid().toString()
            } finally {
                other.destroyForcibly().waitFor()
            }
        }

        test("an unwritable location is reported with the path") {
            val e = shouldThrow<PidFileException> { PidFile(dir.resolve("no/such/dir/x.pid")).acquire {} }
            e.message shouldContain "cannot write pid file"
        }
    })
