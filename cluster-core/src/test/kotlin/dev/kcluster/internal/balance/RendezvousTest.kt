package dev.kcluster.internal.balance

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeInRange
import io.kotest.matchers.shouldBe
import java.util.Random

class RendezvousTest :
    FunSpec({
        fun owner(key: ByteArray, slots: List<Int>) = slots.maxBy { Rendezvous.weight(key, it) }
        val keys = Random(7).let { r -> List(3_000) { ByteArray(4).also(r::nextBytes) } }

        test("addresses spread evenly over the slots") {
            val counts = keys.groupingBy { owner(it, listOf(1, 2, 3)) }.eachCount()
            counts.keys shouldBe setOf(1, 2, 3)
            counts.values.forEach { it shouldBeInRange 850..1150 }
        }

        test("removing a slot moves only the addresses it owned; adding it back restores them") {
            val three = keys.map { owner(it, listOf(1, 2, 3)) }
            val two = keys.map { owner(it, listOf(1, 2)) }
            keys.indices.filter { three[it] != 3 }.all { two[it] == three[it] } shouldBe true
            keys.map { owner(it, listOf(1, 2, 3)) } shouldBe three
        }
    })
