package dev.kcluster.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe

class StatusTableTest :
    FunSpec({
        test("RSS comes from /proc/<pid>/status") {
            val rss = StatusTable.rssBytes(ProcessHandle.current().pid())
            rss.shouldNotBeNull()
            rss shouldBeGreaterThan 1024L * 1024
            val gone = ProcessBuilder("true").start().also { it.waitFor() }.pid()
            StatusTable.rssBytes(gone).shouldBeNull()
        }

        test("sizes read as KiB, MiB, GiB") {
            StatusTable.bytes(512 * 1024) shouldBe "512 KiB"
            StatusTable.bytes(3L * 1024 * 1024 + 512 * 1024) shouldBe "3.5 MiB"
            StatusTable.bytes(2L * 1024 * 1024 * 1024) shouldBe "2.0 GiB"
        }
    })
