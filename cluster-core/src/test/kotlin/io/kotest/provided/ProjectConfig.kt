package io.kotest.provided

import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.killAllStarted
import dev.kcluster.testing.markedPids
import io.kotest.core.config.AbstractProjectConfig

/** After the whole suite: no JVM this suite started (workers included) may still be alive. */
object ProjectConfig : AbstractProjectConfig() {
    override suspend fun afterProject() {
        killAllStarted()
        try {
            awaitUntil("no test JVM left", 10_000) { markedPids().isEmpty() }
        } catch (e: AssertionError) {
            val left = markedPids()
            left.forEach { ProcessHandle.of(it).ifPresent { h -> h.destroyForcibly() } }
            throw AssertionError("orphaned test processes after the suite: $left")
        }
    }
}
