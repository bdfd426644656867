package dev.kcluster.internal.supervisor

import dev.kcluster.internal.supervisor.RestartPolicy.Decision.GiveUp
import dev.kcluster.internal.supervisor.RestartPolicy.Decision.Respawn
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

private const val MS = 1_000_000L
private const val S = 1_000 * MS

class RestartPolicyTest :
    FunSpec({
        var now = 0L
        fun policy(maxRestarts: Int = 5, window: Long = 60 * S, maxBackoff: Long = 10_000) =
            RestartPolicy(maxRestarts, window, maxBackoff, clock = { now })

        beforeTest { now = 0L }

        test("a slot's first crash is respawned at once, then 100, 200, 400 ms, capped at maxBackoff") {
            val p = policy(maxRestarts = 100, maxBackoff = 300)
            val delays =
                List(5) {
                    now += S
                    (p.onCrash(1, uptimeNanos = 10 * MS) as Respawn).delayMillis
                }
            delays shouldBe listOf(0L, 100L, 200L, 300L, 300L)
        }

        test("each slot has its own backoff sequence") {
            val p = policy()
            p.onCrash(1, MS) shouldBe Respawn(0)
            p.onCrash(1, MS) shouldBe Respawn(100)
            p.onCrash(2, MS) shouldBe Respawn(0)
        }

        test("a worker that ran for a minute resets its slot's sequence") {
            val p = policy()
            p.onCrash(1, MS) shouldBe Respawn(0)
            p.onCrash(1, MS) shouldBe Respawn(100)
            p.onCrash(1, 60 * S) shouldBe Respawn(0)
        }

        test("more than maxRestarts crashes across the cluster within the window gives up") {
            val p = policy(maxRestarts = 3, window = 10 * S)
            repeat(3) { i ->
                now += S
                p.onCrash(i + 1, MS) shouldBe Respawn(0)
            }
            now += S
            p.onCrash(4, MS) shouldBe GiveUp(4)
        }

        test("crashes older than the window no longer count") {
            val p = policy(maxRestarts = 2, window = 10 * S)
            p.onCrash(1, MS)
            p.onCrash(2, MS)
            now += 11 * S
            (p.onCrash(3, MS) is Respawn) shouldBe true
        }

        test("a forgotten slot starts over") {
            val p = policy()
            p.onCrash(1, MS)
            p.forget(1)
            p.onCrash(1, MS) shouldBe Respawn(0)
        }
    })
