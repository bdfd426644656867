package dev.kcluster

import dev.kcluster.testing.WatcherMain
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.ipcDirOf
import dev.kcluster.testing.startJvm
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import kotlin.time.Duration.Companion.milliseconds

private fun alive(pid: Long): Boolean {
    val stat = runCatching { Files.readString(Path.of("/proc/$pid/stat")) }.getOrNull() ?: return false
    return stat.substringAfterLast(") ").firstOrNull() != 'Z'
}

/** Live processes whose command line contains [text]. */
private fun processesWith(text: String): List<Long> =
    File("/proc")
        .listFiles { f -> f.name.all(Char::isDigit) }
        .orEmpty()
        .filter { dir ->
            val cmd = runCatching { String(Files.readAllBytes(dir.toPath().resolve("cmdline"))) }.getOrDefault("")
            cmd.contains(text) && alive(dir.name.toLong())
        }
        .map { it.name.toLong() }

class OrphanExitTest :
    FunSpec({
        test("orphanExitGrace defaults to 50 ms, takes a Kotlin Duration, and must not be negative") {
            WatcherConfig("x").orphanExitGrace shouldBe java.time.Duration.ofMillis(50)
            WatcherConfig("x") { orphanExitGrace(0.milliseconds) }.orphanExitGrace shouldBe java.time.Duration.ZERO
            shouldThrow<IllegalArgumentException> { WatcherConfig("x") { orphanExitGrace((-1).milliseconds) } }.message shouldBe
                "orphanExitGrace must not be negative, was PT-0.001S"
        }

        test("orphaned workers blocked in native code run their shutdown hooks and exit as soon as the hooks are done") {
            val dir = Files.createTempDirectory("kcluster-orphan-")
            try {
                // A 10 s grace: the workers must end when their hooks are done, long before it runs out.
                val watcher = startJvm(WatcherMain::class.java, "2", "10000", "exit-hook", dir.toString(), "selector")
                val drain = Thread { runCatching { watcher.errorStream.readAllBytes() } }.apply { start() }
                val pids = watcher.inputStream.bufferedReader().readLine().removePrefix("PIDS ").split(" ").map(String::toLong)
                val ipcDir = ipcDirOf(pids.first())
                val t0 = System.nanoTime()
                watcher.destroyForcibly()
                awaitUntil("orphaned workers gone", 30_000) { pids.none(::alive) }
                val ms = (System.nanoTime() - t0) / 1_000_000
                println("NUMBER orphaned workers (with a thread in epoll and a user hook) gone after watcher SIGKILL: $ms ms")
                ms shouldBeLessThan 8_000
                pids.forEach { pid -> Files.readString(dir.resolve("hook-$pid")) shouldBe "ran" }
                awaitUntil("no kill helper left") { processesWith("kcluster-orphan-kill").isEmpty() }
                drain.join(5_000)
                dev.kcluster.internal.ipc.PrivateDir.delete(ipcDir)
            } finally {
                dir.toFile().deleteRecursively()
            }
        }
    })
