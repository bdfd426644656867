package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import dev.kcluster.testing.awaitValue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.net.InetSocketAddress
import java.nio.ByteBuffer
import java.nio.channels.SocketChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.FileTime
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.jar.JarEntry
import java.util.jar.JarOutputStream
import kotlin.io.path.name

private val TEMURIN_25: Path = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java")

/**
 * Class-data archives end to end: the real fat jar as the watcher, workers from a jar (archives need jars), a temporary XDG_CACHE_HOME.
 * Proofs come from the workers' own `-Xlog:cds`/`-Xlog:aot` lines, which the watcher relays from their stdout.
 */
class ClassCacheIT :
    FunSpec({
        val h = CliHarness()
        val xdg = Files.createTempDirectory("kcl-xdg")
        val cacheDir = xdg.resolve("kcluster")
        val app = h.dir.resolve("app.jar")
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val running = CopyOnWriteArrayList<Process>()
        afterSpec {
            running.forEach { p ->
                p.descendants().forEach { it.destroyForcibly() }
                p.destroyForcibly()
                p.waitFor(10, TimeUnit.SECONDS)
            }
            h.cleanUp()
            xdg.toFile().deleteRecursively()
        }

        /** A jar holding the test worker program (its classes only; kcluster comes from the watcher's classpath). */
        fun writeApp() {
            val root = Path.of(h.testClasses)
            JarOutputStream(Files.newOutputStream(app)).use { jar ->
                Files.walk(root).use { files ->
                    files
                        .filter { Files.isRegularFile(it) && it.toString().contains("/testing/TestServer") }
                        .forEach { f ->
                            jar.putNextEntry(JarEntry(root.relativize(f).toString()))
                            Files.copy(f, jar)
                            jar.closeEntry()
                        }
                }
            }
        }
        writeApp()

        class Watcher(val process: Process) {
            val lines = CopyOnWriteArrayList<String>()

            init {
                for (s in listOf(process.inputStream, process.errorStream)) {
                    Thread { s.bufferedReader().forEachLine { lines += it } }
                        .apply {
                            isDaemon = true
                            start()
                        }
                }
            }

            fun has(text: String) = lines.any { it.contains(text) }

            override fun toString() =
                "watcher ${process.pid()}:\n" +
                    lines.filterNot { it.contains("[info][cds]") || it.contains("[info][aot]") }.joinToString("\n")
        }

        /** Starts the fat jar on this JVM's java, or with [javaHome] through `bin/cluster` (which adds its own archive options). */
        suspend fun start(vararg args: String, xdgHome: Path = xdg, workers: Int = 1, javaHome: Path? = null): Watcher {
            val launcher =
                if (javaHome == null) listOf(java, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", h.jar.toString())
                else listOf(h.jar.parent.parent.parent.resolve("bin/cluster").toString())
            val cmd =
                launcher +
                    listOf("-w", "$workers") +
                    args +
                    listOf("--jvm-opt=-XX:TieredStopAtLevel=1", "-cp", app.toString(), TestServer::class.java.name)
            val pb = ProcessBuilder(cmd)
            pb.environment()["XDG_CACHE_HOME"] = xdgHome.toString()
            if (javaHome != null) {
                pb.environment()["JAVA_HOME"] = javaHome.toString()
                pb.environment().remove("KCLUSTER_JAVA_OPTS")
                pb.environment().remove("KCLUSTER_CLI_CDS")
            }
            val w = Watcher(pb.start().also { running += it })
            awaitValue("cluster ready\n$w", 90_000) {
                if (w.has("cluster ready: $workers worker")) true else null.also { check(w.process.isAlive) { "watcher exited: $w" } }
            }
            // The workers answer on the shared port the watcher logs.
            val port = w.lines.firstNotNullOf { Regex("listening on 127\\.0\\.0\\.1:(\\d+)").find(it)?.groupValues?.get(1)?.toInt() }
            SocketChannel.open(InetSocketAddress("127.0.0.1", port)).use { c ->
                val buf = ByteBuffer.allocate(64)
                while (c.read(buf) >= 0) Unit
                String(buf.array(), 0, buf.position()) shouldContain "worker "
            }
            return w
        }

        fun stop(w: Watcher) {
            w.process.destroy()
            w.process.waitFor(60, TimeUnit.SECONDS) shouldBe true
        }

        fun archives(ext: String) =
            if (!Files.isDirectory(cacheDir)) emptyList()
            else Files.list(cacheDir).use { s -> s.filter { it.name.startsWith("TestServer-") && it.name.endsWith(".$ext") }.toList() }

        suspend fun awaitCreated(w: Watcher) =
            awaitValue("archive created\n$w", 120_000) { if (w.has("class cache: created")) true else null }

        test("an archive is created on the first start and used by the workers of the second") {
            val first = start("--jvm-opt=-Xlog:cds=info")
            awaitCreated(first)
            stop(first)
            val archive = archives("jsa").single()
            val second = start("--jvm-opt=-Xlog:cds=info", workers = 2)
            awaitValue("workers mapped the archive\n$second", 30_000) {
                val opened = second.lines.filter { it.contains("stdout - ") && it.contains("Opened archive $archive") }
                val mapped = second.lines.filter { it.contains("stdout - ") && it.contains("Mapped dynamic region #0") }
                if (opened.size >= 2 && mapped.size >= 2) true else null
            }
            second.has("class cache: created") shouldBe false
            // The workers load junixsocket's library from the cache's private copy (NativeLibraryCopy), not from a temporary file.
            val workerPids =
                second.process.toHandle().children().toList().filter { it.info().commandLine().orElse("").contains("WorkerMain") }
            workerPids shouldHaveSize 2
            for (p in workerPids) {
                val maps = Files.readString(Path.of("/proc/${p.pid()}/maps"))
                maps shouldContain "$cacheDir/native/libjunixsocket-native-"
            }
            stop(second)
        }

        test("a changed classpath jar causes a rebuild") {
            val old = archives("jsa").single()
            Files.setLastModifiedTime(app, FileTime.fromMillis(Files.getLastModifiedTime(app).toMillis() + 5_000))
            val w = start()
            awaitCreated(w)
            stop(w)
            val now = archives("jsa")
            now.filter { it != old } shouldHaveSize 1
        }

        test("a truncated archive gives one warning and a working cluster") {
            val archive = archives("jsa").maxByOrNull { Files.getLastModifiedTime(it) }!!
            val bytes = Files.readAllBytes(archive)
            archive.toFile().setWritable(true)
            Files.write(archive, bytes.copyOf(bytes.size / 3))
            val w = start(workers = 2)
            w.lines.filter { it.contains("was rejected") } shouldHaveSize 1
            w.lines.single { it.contains("was rejected") } shouldContain "SIGBUS"
            awaitCreated(w) // and the next training run rebuilds it
            stop(w)
            Files.size(archive) shouldNotBe (bytes.size / 3).toLong()
        }

        test("--class-cache off creates nothing") {
            val empty = Files.createTempDirectory(xdg, "off")
            val w = start("--class-cache", "off", xdgHome = empty)
            stop(w)
            Files.list(empty).use { it.toList() } shouldBe emptyList()
            w.has("class cache") shouldBe false
        }

        test(
                "bin/cluster on JDK 25 records the watcher's classes, assembles its AOT cache in the background, then maps it; a damaged one is dropped with one warning"
            )
            .config(enabled = Files.isExecutable(TEMURIN_25)) {
                val home = Files.createTempDirectory(xdg, "cli-aot")
                val dir = home.resolve("kcluster")
                val jdk = TEMURIN_25.parent.parent
                // The watcher's files: cli-jdk25-<key><suffix>, suffix a regex.
                fun cli(suffix: String) =
                    Files.list(dir).use { s -> s.filter { Regex("cli-jdk25-[0-9a-f]+$suffix").matches(it.name) }.toList() }

                // First run: no cache; the JVM records the classes it loads and writes them as it exits, silently.
                val first = start("--class-cache", "off", xdgHome = home, javaHome = jdk)
                stop(first)
                cli("\\.aot").shouldBeEmpty()
                cli("\\.aot\\.conf\\.tmp\\.${first.process.pid()}") shouldHaveSize 1
                first.lines.filter { it.contains("AOTConfiguration") || it.contains("[aot]") }.shouldBeEmpty()

                // Second run: a detached, niced JVM assembles the cache from that recording while this run serves.
                val second = start("--class-cache", "off", xdgHome = home, javaHome = jdk)
                val cache = awaitValue("the watcher's AOT cache assembled\n$second", 60_000) { cli("\\.aot").singleOrNull() }
                awaitValue("the assembler gone", 30_000) { if (cli("\\.aot\\.conf.*").isEmpty()) true else null }
                stop(second)
                second.lines.filter { it.contains("AOTCache") || it.contains("[aot]") }.shouldBeEmpty()

                // Third run: the watcher's JVM maps it.
                val third = start("--class-cache", "off", xdgHome = home, javaHome = jdk)
                Files.readString(Path.of("/proc/${third.process.pid()}/maps")) shouldContain cache.toString()
                stop(third)

                // A truncated cache: one warning from bin/cluster, a working cluster, and a new recording.
                val bytes = Files.readAllBytes(cache)
                Files.write(cache, bytes.copyOf(bytes.size / 3))
                val fourth = start("--class-cache", "off", xdgHome = home, javaHome = jdk)
                fourth.lines.filter { it.contains("ignoring the damaged class-data archive $cache") } shouldHaveSize 1
                stop(fourth)
                cli("\\.aot").shouldBeEmpty()
                cli("\\.aot\\.conf\\.tmp\\.${fourth.process.pid()}") shouldHaveSize 1
            }

        test("--java with the Temurin 25 JDK serves, and its workers use an AOT cache").config(enabled = Files.isExecutable(TEMURIN_25)) {
            val first = start("--java", TEMURIN_25.toString())
            awaitCreated(first)
            stop(first)
            val cache = archives("aot").single()
            val second = start("--java", TEMURIN_25.toString(), "--jvm-opt=-Xlog:aot=info")
            awaitValue("worker used the AOT cache\n$second", 30_000) {
                if (second.has("Opened AOT cache $cache") && second.has("Using AOT-linked classes: true")) true else null
            }
            // Mapped where it was dumped, shared between the workers, not relocated into a private copy in each (DESIGN.md).
            second.has("ArchiveRelocationMode: 0") shouldBe true
            second.has("at an alternative address") shouldBe false
            stop(second)
            // The documented opt-out: the user's value wins, and its workers relocate the archive again.
            val optOut = arrayOf("--jvm-opt=-XX:+UnlockDiagnosticVMOptions", "--jvm-opt=-XX:ArchiveRelocationMode=1")
            val third = start("--java", TEMURIN_25.toString(), *optOut)
            awaitCreated(third)
            stop(third)
            val fourth = start("--java", TEMURIN_25.toString(), *optOut, "--jvm-opt=-Xlog:aot=info")
            awaitValue("worker relocated the AOT cache\n$fourth", 30_000) {
                if (fourth.has("Opened AOT cache") && fourth.has("at an alternative address")) true else null
            }
            fourth.has("ArchiveRelocationMode: 0") shouldBe false
            stop(fourth)
        }
    })
