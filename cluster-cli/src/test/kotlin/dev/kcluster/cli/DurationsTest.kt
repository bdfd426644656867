package dev.kcluster.cli

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.time.Duration

class DurationsTest :
    FunSpec({
        test("parses milliseconds, seconds, minutes, hours and sums") {
            Durations.parse("500ms") shouldBe Duration.ofMillis(500)
            Durations.parse("10s") shouldBe Duration.ofSeconds(10)
            Durations.parse("2m") shouldBe Duration.ofMinutes(2)
            Durations.parse("1h") shouldBe Duration.ofHours(1)
            Durations.parse("1m30s") shouldBe Duration.ofSeconds(90)
            Durations.parse(" 1S ") shouldBe Duration.ofSeconds(1)
        }

        test("rejects bare numbers, unknown units, zero and overflow with an example") {
            for (bad in listOf("10", "5x", "s", "", "1.5s", "-1s", "1 s")) {
                shouldThrow<IllegalArgumentException> { Durations.parse(bad) }.message shouldContain "use e.g. 500ms, 10s"
            }
            shouldThrow<IllegalArgumentException> { Durations.parse("0s") }.message shouldContain "longer than zero"
            shouldThrow<IllegalArgumentException> { Durations.parse("99999999999999999999s") }.message shouldContain "too large"
        }

        test("formats durations compactly") {
            Durations.format(Duration.ofMillis(900)) shouldBe "900ms"
            Durations.format(Duration.ofSeconds(59)) shouldBe "59s"
            Durations.format(Duration.ofSeconds(65)) shouldBe "1m5s"
            Durations.format(Duration.ofMinutes(2)) shouldBe "2m"
            Durations.format(Duration.ofMinutes(61)) shouldBe "1h1m"
            Durations.format(Duration.ofHours(49)) shouldBe "2d1h"
        }
    })
