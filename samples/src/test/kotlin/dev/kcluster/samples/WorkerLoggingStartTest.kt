package dev.kcluster.samples

import dev.kcluster.ClassCache
import dev.kcluster.ClusterWatcher
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import java.nio.file.Path

private val TEMURIN_25: Path = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java")

/**
 * A worker binds SLF4J (here cluster-logging's provider, as in the samples jar) before its preload thread starts, so no logger is ever a
 * stand-in. Read from the JVM's class-initialisation log (JDK 25 names the initialising thread): with the two threads racing, half of the
 * HelloHttp starts measured printed SLF4J's "substitute loggers" warning for Netty's loggers.
 */
class WorkerLoggingStartTest :
    FunSpec({
        test("HelloHttp workers bind SLF4J before the preload thread runs; no substitute logger is created").config(
            enabled = Files.isExecutable(TEMURIN_25)
        ) {
            val dir = Files.createTempDirectory("kcluster-slf4j")
            try {
                val watcher =
                    ClusterWatcher(
                        testConfig(HelloHttp::class.java.name, "--port", "0") {
                            javaCommand(TEMURIN_25.toString())
                            jvmOptions("-Xlog:class+init=info:file=$dir/init-%p.log")
                            classCache(ClassCache.OFF)
                        }
                    )
                try {
                    watcher.start(2)
                } finally {
                    watcher.stop()
                }
                val logs = Files.list(dir).use { s -> s.toList() }
                logs.size shouldBe 2
                for (log in logs) {
                    val lines = Files.readAllLines(log)
                    fun initialising(cls: String): Int = lines.indexOfFirst { it.contains(" Initializing '$cls'") }
                    val factory = initialising("dev/kcluster/logging/internal/KclusterLoggerFactory")
                    val preload = lines.indexOfFirst { it.contains("by thread \"kcluster-preload\"") }
                    withClue({ "$log: ${lines.filter { it.contains("slf4j") || it.contains("kcluster/logging") }.take(40)}" }) {
                        factory shouldNotBe -1
                        preload shouldNotBe -1
                        lines[factory].contains("by thread \"main\"") shouldBe true
                        // The provider is bound (its factory made) before the preload thread's first class initialisation.
                        (factory < preload) shouldBe true
                        lines.filter { it.contains("'io/netty/") }.shouldNotBeEmpty()
                        lines.filter { it.contains("'org/slf4j/helpers/SubstituteLogger'") }.shouldBeEmpty()
                    }
                }
            } finally {
                dir.toFile().deleteRecursively()
            }
        }
    })
