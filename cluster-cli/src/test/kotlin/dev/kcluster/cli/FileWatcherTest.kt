package dev.kcluster.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull

class FileWatcherTest :
    FunSpec({
        val dir = Files.createTempDirectory("kcluster-watch")
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        afterSpec {
            scope.cancel()
            dir.toFile().deleteRecursively()
        }

        test("a burst of changes in a nested, newly created directory gives one debounced call; ignored files none") {
            val root = Files.createDirectories(dir.resolve("app"))
            val log = root.resolve("cluster.log")
            val calls = Channel<Path>(Channel.UNLIMITED)
            val w = FileWatcher(listOf(root), setOf(log), 300, scope) { calls.send(it) }
            try {
                val sub = Files.createDirectories(root.resolve("a/b"))
                // Give the watcher the new directories' events before writing inside them: wait for that first change.
                withTimeout(20_000) { calls.receive() }
                repeat(5) { i -> Files.writeString(sub.resolve("f$i.txt"), "x$i") }
                val changed = withTimeout(20_000) { calls.receive() }
                changed.startsWith(root) shouldBe true
                withTimeoutOrNull(1_500) { calls.receive() } shouldBe null
                Files.writeString(log, "a log line\n")
                withTimeoutOrNull(1_500) { calls.receive() } shouldBe null
            } finally {
                w.close()
            }
        }

        test("a watched single file counts, its siblings do not") {
            val one = Files.writeString(dir.resolve("config.yml"), "a: 1")
            val calls = Channel<Path>(Channel.UNLIMITED)
            val w = FileWatcher(listOf(one), emptySet(), 200, scope) { calls.send(it) }
            try {
                Files.writeString(dir.resolve("other.txt"), "x")
                withTimeoutOrNull(1_000) { calls.receive() } shouldBe null
                Files.writeString(one, "a: 2")
                withTimeout(20_000) { calls.receive() } shouldBe one.toAbsolutePath()
            } finally {
                w.close()
            }
        }
    })
