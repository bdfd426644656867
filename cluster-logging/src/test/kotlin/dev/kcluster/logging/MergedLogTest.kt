package dev.kcluster.logging

import dev.kcluster.ClusterWatcher
import dev.kcluster.WatcherConfig
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import org.slf4j.LoggerFactory

private suspend fun awaitText(file: Path, what: String, timeoutMillis: Long = 30_000, condition: (String) -> Boolean) {
    try {
        withTimeout(timeoutMillis) { while (!(Files.exists(file) && condition(Files.readString(file)))) delay(20) }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError(
            "timed out after $timeoutMillis ms waiting for $what in:\n" + runCatching { Files.readString(file) }.getOrDefault("(no file)")
        )
    }
}

private suspend fun withOneWorker(block: suspend (ClusterWatcher) -> Unit) {
    val w =
        ClusterWatcher(WatcherConfig(LogWorker::class.java.name) { jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1") })
    try {
        w.start(1)
        block(w)
    } finally {
        w.stop()
    }
}

/** The merged stream with real worker JVMs whose classpath (inherited) has cluster-logging, so they forward whole records. */
class MergedLogTest :
    FunSpec({
        val dir = Files.createTempDirectory("kcluster-logging-test")
        afterSpec {
            ClusterLog.setFile(null)
            ClusterLog.setJson(false)
            dir.toFile().deleteRecursively()
        }

        test("kcluster's provider is this JVM's backend") {
            LoggerFactory.getILoggerFactory().javaClass.name shouldBe "dev.kcluster.logging.internal.KclusterLoggerFactory"
        }

        test("text lines: worker records keep their logger, MDC and stack trace, tagged [worker N]; the file reopens") {
            val log = dir.resolve("text.log")
            ClusterLog.setFile(log.toString())
            withOneWorker { w ->
                val id = w.workers.single().id
                awaitText(log, "the worker's records") { t ->
                    t.contains("] ERROR [worker $id] dev.kcluster.logging.LogWorker - failed in worker $id\n") ||
                        t.contains("ERROR [worker $id]")
                }
                awaitText(log, "the stdout line") { it.contains("INFO  [worker $id] stdout - stdout line from worker $id\n") }
                val text = Files.readString(log)
                text shouldContain "INFO  [worker $id] dev.kcluster.logging.LogWorker - hello from worker $id {request=42}\n"
                text shouldContain
                    "ERROR [worker $id] dev.kcluster.logging.LogWorker - failed in worker $id\njava.lang.IllegalStateException: boom\n\tat dev.kcluster.logging.LogWorker.main"
                text shouldContain "INFO  [watcher] dev.kcluster.ClusterWatcher - 1 workers ready\n"
                text shouldNotContain "worker=" // the worker id is the source, not an MDC entry
                Files.move(log, dir.resolve("text.log.1"))
                ClusterLog.reopen()
                LoggerFactory.getLogger("test").info("after reopen")
                Files.readString(log) shouldContain "[watcher] test - after reopen\n"
            }
        }

        test("JSON lines carry source, thread, MDC and throwable") {
            val log = dir.resolve("json.log")
            ClusterLog.setFile(log.toString())
            ClusterLog.setJson(true)
            withOneWorker { w ->
                val id = w.workers.single().id
                awaitText(log, "the worker's JSON lines") {
                    it.contains("\"message\":\"stdout line from worker $id\"") && it.contains("\"level\":\"ERROR\"")
                }
                val lines = Files.readAllLines(log)
                val info = lines.single { it.contains("\"message\":\"hello from worker $id\"") }
                info shouldContain
                    "\"level\":\"INFO\",\"source\":\"worker $id\",\"logger\":\"dev.kcluster.logging.LogWorker\",\"thread\":\"main\""
                info shouldContain "\"mdc\":{\"request\":\"42\"}"
                lines.single { it.contains("\"level\":\"ERROR\"") && it.contains("worker $id") } shouldContain
                    "\"throwable\":\"java.lang.IllegalStateException: boom\\n\\tat dev.kcluster.logging.LogWorker.main"
            }
        }
    })
