package dev.kcluster.internal.log

import dev.kcluster.WatcherConfig
import dev.kcluster.testing.CapturingAppender
import dev.kcluster.testing.FORWARDING
import dev.kcluster.testing.LoggingWorker
import dev.kcluster.testing.TEST_JVM
import dev.kcluster.testing.awaitUntil
import dev.kcluster.testing.testConfig
import dev.kcluster.testing.withWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.slf4j.LoggerFactory

/** cluster-core binds no backend: in a JVM whose backend is Logback, worker records are re-logged through Logback. */
class LogbackRelayTest :
    FunSpec({
        test("the backend of a JVM embedding a watcher is Logback, not kcluster's") {
            LoggerFactory.getILoggerFactory().javaClass.name shouldBe "ch.qos.logback.classic.LoggerContext"
        }

        test("a forwarding worker's whole records reach a Logback appender with worker and its own MDC") {
            val capture = CapturingAppender().attach()
            try {
                withWatcher(testConfig(LoggingWorker::class.java, "once"), 1) { w ->
                    val id = w.workers.single().id.toString()
                    val logger = LoggingWorker::class.java.name
                    awaitUntil("the worker's INFO and ERROR records in Logback") { capture.events.count { it.logger == logger } >= 2 }
                    val info = capture.events.first { it.logger == logger && it.level == "INFO" }
                    info.message shouldBe "hello logback from worker $id"
                    info.mdc shouldBe mapOf("worker" to id, "request" to "42")
                    val error = capture.events.first { it.logger == logger && it.level == "ERROR" }
                    error.message shouldContain
                        "failed in worker $id\njava.lang.IllegalStateException: boom\n\tat dev.kcluster.testing.LoggingWorker.main"
                    error.mdc["worker"] shouldBe id
                    awaitUntil("the stdout line in Logback") {
                        capture.events.any { it.logger == "stdout" && it.message == "stdout line from worker $id" }
                    }
                    capture.events.first { it.logger == "stdout" }.mdc shouldBe mapOf("worker" to id)
                }
            } finally {
                capture.detach()
            }
        }

        test("a worker whose own backend is Logback has its output relayed line by line with worker in the MDC") {
            val capture = CapturingAppender().attach()
            try {
                // Without FORWARDING the worker's SLF4J finds Logback (the inherited classpath), which prints to stderr.
                val config =
                    WatcherConfig(LoggingWorker::class.java.name) {
                        jvmOptions(TEST_JVM - FORWARDING)
                        args("once")
                    }
                withWatcher(config, 1) { w ->
                    val id = w.workers.single().id.toString()
                    awaitUntil("the worker's Logback line in the watcher's Logback") {
                        capture.events.any {
                            it.logger == "stderr" &&
                                it.message.contains("${LoggingWorker::class.java.name} - hello logback from worker $id")
                        }
                    }
                    capture.events.first { it.logger == "stderr" }.mdc shouldBe mapOf("worker" to id)
                    capture.events.none { it.logger == LoggingWorker::class.java.name } shouldBe true
                }
            } finally {
                capture.detach()
            }
        }
    })
