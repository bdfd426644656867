package dev.kcluster

import dev.kcluster.testing.signal
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import sun.misc.Signal

/**
 * [WatcherSignals] in this JVM, with real signals sent to it (`kill -HUP <this pid>`). Only signals whose actions are replaced, or
 * harmless, are sent: TERM and INT (which would stop the test JVM) are covered by the process tests of the CLI and the DSL.
 */
class WatcherSignalsTest :
    FunSpec({
        val me = ProcessHandle.current().pid()

        fun LinkedBlockingQueue<String>.take(what: String): String = poll(30, TimeUnit.SECONDS) ?: error("no $what within 30 s")

        test("HUP, USR1, TTIN and TTOU run their actions one at a time in arrival order; USR2 is ignored") {
            val seen = LinkedBlockingQueue<String>()
            val watcher = ClusterWatcher(WatcherConfig("com.example.Unused"))
            val signals =
                watcher.handleSignals {
                    onReload { seen += "reload on ${Thread.currentThread().name}" }
                    onReopenLog { seen += "reopen" }
                    onScale { delta -> seen += "scale $delta" }
                }
            try {
                signal(me, "HUP")
                seen.take("reload") shouldBe "reload on kcluster-signals"
                signal(me, "USR2") // the JVM would die of an unhandled USR2
                signal(me, "USR1")
                seen.take("reopen") shouldBe "reopen"
                signal(me, "TTIN")
                seen.take("scale") shouldBe "scale 1"
                signal(me, "TTOU")
                seen.take("scale") shouldBe "scale -1"
                signals.isStopRequested shouldBe false
            } finally {
                signals.close()
                watcher.close()
            }
        }

        test("an action that throws is logged and later signals still run theirs") {
            val seen = LinkedBlockingQueue<String>()
            val watcher = ClusterWatcher(WatcherConfig("com.example.Unused"))
            WatcherSignals.builder(watcher)
                .onReload { error("reload failed") }
                .onReopenLog { seen += "reopen" }
                .install()
                .use {
                    signal(me, "HUP")
                    signal(me, "USR1")
                    seen.take("reopen") shouldBe "reopen"
                }
            watcher.close()
        }

        test("close puts the previous handlers back") {
            val seen = LinkedBlockingQueue<String>()
            val usr1 = Signal("USR1")
            val original = Signal.handle(usr1) { seen += "previous" }
            try {
                val watcher = ClusterWatcher(WatcherConfig("com.example.Unused"))
                val signals = WatcherSignals.builder(watcher).onReopenLog { seen += "kcluster" }.install()
                signal(me, "USR1")
                seen.take("kcluster action") shouldBe "kcluster"
                signals.close()
                signals.close() // idempotent
                signal(me, "USR1")
                seen.take("previous handler") shouldBe "previous"
                listOf(seen.poll()) shouldContainExactly listOf(null)
                watcher.close()
            } finally {
                Signal.handle(usr1, original)
            }
        }
    })
