@file:OptIn(io.kotest.common.ExperimentalKotest::class)

package dev.kcluster.internal.log

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.arbitrary
import io.kotest.property.arbitrary.bind
import io.kotest.property.arbitrary.boolean
import io.kotest.property.arbitrary.char
import io.kotest.property.arbitrary.choice
import io.kotest.property.arbitrary.constant
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.list
import io.kotest.property.arbitrary.long
import io.kotest.property.arbitrary.map
import io.kotest.property.arbitrary.orNull
import io.kotest.property.checkAll

/** 100 by default; a longer run: `-Dkcluster.logFuzz.iterations=100000` (see docs/DESIGN.md, Logs). */
private val ITERATIONS = System.getProperty("kcluster.logFuzz.iterations")?.toIntOrNull() ?: 100

/** Throws from toString() an exception whose own toString() and getMessage() throw. */
private class HostileObject : Any() {
    override fun toString(): String = throw HostileException()
}

private class HostileException : RuntimeException() {
    override fun toString(): String = throw HostileException()

    override val message: String
        get() = throw IllegalStateException("no message either")
}

/** A throwable whose every overridable accessor can throw; [next] makes chains and cycles. */
private class HostileThrowable(val hostile: Boolean) : RuntimeException("plain message") {
    var next: Throwable? = null
    var badTrace = false

    override fun toString(): String = if (hostile) throw HostileException() else super.toString()

    override val message: String?
        get() = if (hostile) throw HostileException() else super.message

    override val cause: Throwable?
        get() = next

    override fun getStackTrace(): Array<StackTraceElement> = if (badTrace) throw HostileException() else super.getStackTrace()
}

/** Any UTF-16 sequence, unpaired surrogates included. */
private val anyChars: Arb<String> = Arb.list(Arb.char('\u0000'..'\uFFFF'), 0..300).map { it.joinToString("") }

private val hostileArg: Arb<Any?> =
    Arb.choice(
        anyChars,
        Arb.constant(HostileObject()),
        Arb.constant(null),
        Arb.int(),
        Arb.constant(intArrayOf(1, 2)),
        Arb.constant(arrayOf<Any?>(HostileObject(), "x", null)),
        Arb.constant(HostileException()),
    )

/** Chains of 0..100 causes, hostile or not, some with cycles and throwing getStackTrace. */
private val hostileThrowable: Arb<Throwable?> =
    arbitrary { rs ->
            val depth = Arb.int(0..100).bind()
            val chain = List(depth + 1) { HostileThrowable(Arb.boolean().bind()).apply { badTrace = Arb.int(0..9).bind() == 0 } }
            chain.zipWithNext().forEach { (a, b) -> a.next = b }
            if (Arb.boolean().bind()) chain.last().next = chain[Arb.int(0..depth).bind()] // a cycle
            if (Arb.int(0..3).bind() == 0) chain.first().addSuppressed(chain.last())
            chain.first()
        }
        .orNull(0.2)

private val mdcMaps: Arb<Map<String?, String?>?> = Arb.map(anyChars.orNull(0.1), anyChars.orNull(0.1), 0, 80).orNull(0.1)

private fun wellFormed(s: String): Boolean {
    var i = 0
    while (i < s.length) {
        val c = s[i]
        if (Character.isHighSurrogate(c) && i + 1 < s.length && Character.isLowSurrogate(s[i + 1])) i += 2
        else if (Character.isSurrogate(c)) return false else i++
    }
    return true
}

private fun roundTrip(r: LogRecord): LogRecord = LogRecord.decode(r.encode())

private fun assertRoundTrip(r: LogRecord) {
    val d = roundTrip(r)
    d.timeMillis shouldBe r.timeMillis
    d.level shouldBe r.level.coerceIn(0, 255)
    d.logger shouldBe LogRecord.clip(r.logger, 512)
    d.thread shouldBe LogRecord.clip(r.thread, 512)
    d.message shouldBe LogRecord.clip(r.message, LogRecord.MAX_TEXT)
    d.throwable shouldBe r.throwable?.let { LogRecord.clip(it, LogRecord.MAX_TEXT) }
    @Suppress("UNCHECKED_CAST")
    val expected =
        (r.mdc as Map<String?, String?>)
            .entries
            .filter { it.key != null && it.value != null }
            .take(LogRecord.MAX_MDC)
            .associate { LogRecord.clip(it.key!!, 256) to LogRecord.clip(it.value!!, 4096) }
    d.mdc shouldBe expected
    listOf(d.logger, d.thread, d.message, d.throwable ?: "").forEach { wellFormed(it) shouldBe true }
    d.mdc.forEach { (k, v) ->
        wellFormed(k) shouldBe true
        wellFormed(v) shouldBe true
    }
}

class LogRecordPropertyTest :
    FunSpec({
        test("capture, encode and decode never throw on hostile arguments, throwables and MDC, and round-trip") {
            checkAll(
                PropTestConfig(iterations = ITERATIONS),
                anyChars.orNull(0.1),
                anyChars.orNull(0.1),
                Arb.list(hostileArg, 0..5),
                hostileThrowable,
                mdcMaps,
                Arb.int(0..300),
            ) { logger, pattern, args, t, mdc, level ->
                val r = LogRecord.capture(level, logger, pattern, args.toTypedArray(), t, mdc)
                assertRoundTrip(r)
            }
        }

        test("huge texts are cut with a note, never split a surrogate pair, and still decode") {
            checkAll(PropTestConfig(iterations = 6), Arb.int(0..2_500_000), Arb.long()) { n, time ->
                val huge = "\uD83D\uDE00".repeat(n / 2) + "x".repeat(n % 2)
                val r = LogRecord(time, 20, huge, huge, huge, huge, mapOf(huge to huge))
                assertRoundTrip(r)
                if (huge.length > LogRecord.MAX_TEXT) roundTrip(r).message shouldContain "chars cut]"
            }
        }

        test("the failures a hostile object causes are named, not thrown") {
            val r =
                LogRecord.capture(20, null, "a={} b={}", arrayOf(HostileObject(), null), HostileThrowable(true).apply { next = this }, null)
            r.logger shouldBe "null"
            r.message shouldBe
                "a=[dev.kcluster.internal.log.HostileObject.toString() failed: " +
                    "dev.kcluster.internal.log.HostileException [toString() and getMessage() failed]] b=null"
            r.throwable!! shouldStartWith "dev.kcluster.internal.log.HostileThrowable [toString() and getMessage() failed]\n\tat "
            r.throwable!! shouldContain
                "Caused by: [CIRCULAR REFERENCE: dev.kcluster.internal.log.HostileThrowable [toString() and getMessage() failed]]"
        }

        test("a cause chain deeper than the limit is summarised") {
            val chain = List(10_000) { HostileThrowable(false) }
            chain.zipWithNext().forEach { (a, b) -> a.next = b }
            val text = SafeText.stackTrace(chain.first())
            text.lines().count { it.startsWith("Caused by: ") } shouldBe SafeText.MAX_DEPTH
            text shouldContain "more causes not shown: nested deeper than ${SafeText.MAX_DEPTH}"
        }

        test("nulls a Java caller puts in the MDC map are skipped") {
            @Suppress("UNCHECKED_CAST") val mdc = linkedMapOf<String?, String?>(null to "a", "b" to null, "c" to "d") as Map<String, String>
            roundTrip(LogRecord(1, 20, "l", "t", "m", null, mdc)).mdc shouldBe mapOf("c" to "d")
        }
    })
