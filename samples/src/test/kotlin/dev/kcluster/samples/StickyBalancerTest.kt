package dev.kcluster.samples

import dev.kcluster.ClusterWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldMatch
import java.net.Socket

class StickyBalancerTest :
    FunSpec({
        /** Connects, sends the key line and one more line; returns the two answer lines. */
        fun talk(port: Int, key: String): Pair<String, String> =
            Socket("127.0.0.1", port).use { s ->
                s.soTimeout = 30_000
                s.getOutputStream().write("$key\nping\n".toByteArray())
                val r = s.getInputStream().bufferedReader()
                r.readLine() to r.readLine()
            }

        test("the same key always reaches the same worker, also after a rolling restart") {
            val watcher = ClusterWatcher(testConfig(StickyBalancer::class.java.name))
            try {
                watcher.start(2)
                StickyFrontend(watcher, "127.0.0.1", 0).use { front ->
                    val keys = listOf("alice", "bob", "carol", "dave", "erin", "frank")
                    val first = keys.associateWith { k -> talk(front.port, k) }
                    for ((k, answer) in first) {
                        answer.first shouldMatch Regex("worker \\d+ serves key '$k'")
                        answer.second shouldMatch Regex("worker \\d+ \\[$k]: ping")
                    }
                    fun workerOf(a: Pair<String, String>) = a.first.split(' ')[1]
                    val owner = first.mapValues { workerOf(it.value) }
                    owner.values.toSet().size shouldBe 2 // the keys spread over both workers
                    repeat(3) { for (k in keys) workerOf(talk(front.port, k)) shouldBe owner[k] }

                    watcher.restart().rolledBack shouldBe false
                    val after = keys.associateWith { k -> workerOf(talk(front.port, k)) }
                    // new workers, same grouping: keys that shared a worker still share one
                    after.values.toSet().intersect(owner.values.toSet()) shouldBe emptySet()
                    for (a in keys) for (b in keys) (owner[a] == owner[b]) shouldBe (after[a] == after[b])
                }
            } finally {
                watcher.stop()
            }
        }
    })
