package dev.kcluster.netty

import dev.kcluster.ClassCache
import dev.kcluster.ClusterWatcher
import dev.kcluster.WatcherConfig
import dev.kcluster.netty.testing.WarmupServer
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

private val TEMURIN_25: Path = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java")

/**
 * Netty's preload (NettyPreload, through WorkerPreload) in a real worker JVM, read from the JVM's own class-initialisation log (JDK 25
 * names the initialising thread; JDK 17 does not): Netty's classes are initialised by the preload thread, all before the program's main
 * class; `-Dkcluster.preload=false` leaves them to the program.
 */
class NettyPreloadTest :
    FunSpec({
        /** Starts one WarmupServer worker on JDK 25 with [extra] JVM options and class-init logging; returns the log's lines. */
        suspend fun initLog(vararg extra: String): List<String> {
            val dir = Files.createTempDirectory("kcluster-preload")
            try {
                val log = dir.resolve("init.log")
                val w =
                    ClusterWatcher(
                        WatcherConfig(WarmupServer::class.java.name) {
                            args("off")
                            javaCommand(TEMURIN_25.toString())
                            jvmOptions(listOf("-Xmx64m", "-XX:+UseSerialGC", "-Xlog:class+init=info:file=$log") + extra)
                            classCache(ClassCache.OFF)
                            readyTimeout(Duration.ofSeconds(60))
                        }
                    )
                try {
                    w.start(1)
                } finally {
                    w.stop()
                }
                return Files.readAllLines(log)
            } finally {
                dir.toFile().deleteRecursively()
            }
        }

        fun List<String>.initialising(cls: String): Int = indexOfFirst { it.contains(" Initializing '$cls'") }

        fun List<String>.byPreload(): List<Int> = indices.filter { this[it].contains("by thread \"kcluster-preload\"") }

        test("Netty's classes are initialised by the preload thread, before the program's main class").config(
            enabled = Files.isExecutable(TEMURIN_25)
        ) {
            val lines = initLog()
            val main = lines.initialising("dev/kcluster/netty/testing/WarmupServer")
            val platform = lines.initialising("io/netty/util/internal/PlatformDependent")
            withClue({ lines.filter { it.contains("io/netty/util/internal/PlatformDependent'") || it.contains("WarmupServer'") } }) {
                main shouldNotBe -1
                platform shouldNotBe -1
                lines[platform].contains("by thread \"kcluster-preload\"") shouldBe true
                lines.initialising("io/netty/handler/codec/http/HttpServerCodec").let { lines[it] }.contains("kcluster-preload") shouldBe
                    true
                // main waits for the preloads: nothing of theirs comes after the program's main class.
                lines.byPreload().shouldNotBeEmpty().all { it < main } shouldBe true
            }
        }

        test("-Dkcluster.preload=false: no preload thread; the program initialises Netty itself").config(
            enabled = Files.isExecutable(TEMURIN_25)
        ) {
            val lines = initLog("-Dkcluster.preload=false")
            lines.byPreload().shouldBeEmpty()
            val platform = lines.initialising("io/netty/util/internal/PlatformDependent")
            platform shouldNotBe -1
            (platform > lines.initialising("dev/kcluster/netty/testing/WarmupServer")) shouldBe true
        }
    })
