package dev.kcluster.cli

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

class SizesTest :
    FunSpec({
        test("sizes are bytes or binary units") {
            Sizes.parse("4096") shouldBe 4096
            Sizes.parse("512k") shouldBe (512L * 1024)
            Sizes.parse("512m") shouldBe (512L shl 20)
            Sizes.parse("1g") shouldBe (1L shl 30)
            Sizes.parse("300MiB") shouldBe (300L shl 20)
            Sizes.parse("2GB") shouldBe (2L shl 30)
            Sizes.parse("10b") shouldBe 10
        }

        test("anything else is refused with an example") {
            for (bad in listOf("", "m", "1.5g", "-1m", "12x", "1ib", "1 gigabyte")) {
                shouldThrow<IllegalArgumentException> { Sizes.parse(bad) }.message shouldBe
                    "invalid size '$bad' (use e.g. 512m, 1g or 300MiB)"
            }
            shouldThrow<IllegalArgumentException> { Sizes.parse("0m") }.message shouldBe "size '0m' must be larger than zero"
            shouldThrow<IllegalArgumentException> { Sizes.parse("99999999999t") }.message shouldBe "size '99999999999t' is too large"
        }
    })
