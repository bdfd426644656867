package dev.kcluster.internal.messages

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import org.slf4j.LoggerFactory

class MessageHubTest :
    FunSpec({
        fun hub(count: Int = 3, bytes: Long = 1_000) =
            MessageHub<String>(count, bytes, LoggerFactory.getLogger("test"), "test messages") { it.length }

        test("messages wait for the first collector, which gets them in order") {
            val h = hub()
            h.offer("a")
            h.offer("b")
            h.close()
            h.flow.toList() shouldBe listOf("a", "b")
        }

        test("every active collector gets every message") {
            val h = hub()
            val one = async(start = CoroutineStart.UNDISPATCHED) { h.flow.take(2).toList() }
            val two = async(start = CoroutineStart.UNDISPATCHED) { h.flow.take(2).toList() }
            h.offer("x")
            h.offer("y")
            withTimeout(5_000) {
                one.await() shouldBe listOf("x", "y")
                two.await() shouldBe listOf("x", "y")
            }
        }

        test("first { } then collect loses nothing: the untaken rest goes back to the buffer") {
            val h = hub()
            h.offer("1")
            h.offer("2")
            h.offer("3")
            h.flow.first() shouldBe "1"
            h.close()
            h.flow.toList() shouldBe listOf("2", "3")
            h.dropped shouldBe 0
        }

        test("a full buffer drops new messages and counts them, by count and by bytes") {
            val h = hub(count = 2)
            repeat(5) { h.offer("m$it") }
            h.dropped shouldBe 3
            val b = hub(count = 100, bytes = 10)
            b.offer("12345")
            b.offer("12345")
            b.offer("1")
            b.dropped shouldBe 1
            h.close()
            h.flow.toList() shouldBe listOf("m0", "m1")
        }
    })
