package dev.kcluster.internal.supervisor

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList

class SnapshotTest :
    FunSpec({
        test("a copy of a collection whose one element went away after its size was read is empty, where toList() throws") {
            // A standby pool of one, just promoted: the size still says 1, the elements are gone.
            val stale =
                object : AbstractCollection<String>() {
                    override val size = 1

                    override fun iterator(): Iterator<String> = emptyList<String>().iterator()
                }
            shouldThrow<NoSuchElementException> { stale.toList() }
            shouldThrow<NoSuchElementException> { stale.sortedBy { it } }
            stale.snapshot().shouldBeEmpty()
        }

        test("the copies of concurrent collections are theirs now, and independent of later changes") {
            val list = CopyOnWriteArrayList(listOf("b", "a"))
            val copy = list.snapshot()
            list.clear()
            copy shouldBe listOf("b", "a")
            val map = ConcurrentHashMap(mapOf(1 to "x"))
            val values = map.values.snapshot()
            map.remove(1)
            values shouldBe listOf("x")
        }
    })
