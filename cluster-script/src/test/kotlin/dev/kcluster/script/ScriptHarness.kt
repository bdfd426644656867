package dev.kcluster.script

import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout

/**
 * Runs `java -jar kcluster-cli.jar FILE.cluster.kts` as real processes for the end-to-end tests, all sharing one script cache (a temporary
 * `XDG_CACHE_HOME`), and cleans up every process and file afterwards.
 */
internal class ScriptHarness {
    val cliJar: Path =
        Path.of(System.getProperty("kcluster.cli.jar") ?: error("kcluster.cli.jar is not set (run the e2e tests through Maven)"))
    val scriptHome: Path = Path.of(System.getProperty("kcluster.script.home") ?: error("kcluster.script.home is not set"))
    val dir: Path = Files.createTempDirectory("kcl-script-e2e")
    val cache: Path = Files.createDirectories(dir.resolve("cache"))
    private val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
    private val started = CopyOnWriteArrayList<Process>()

    init {
        check(Files.isRegularFile(cliJar)) { "$cliJar is missing: the e2e tests run after `package`" }
    }

    /** Worker JVM options that keep test workers small. */
    val workerJvm = listOf("--jvm-opt=-Xmx64m", "--jvm-opt=-XX:+UseSerialGC", "--jvm-opt=-XX:TieredStopAtLevel=1")

    fun script(name: String, text: String): Path = dir.resolve(name).also { Files.writeString(it, text) }

    /** Starts `cluster ARGS` in [dir]; stdout and stderr are collected line by line. */
    fun start(vararg args: String): Running {
        val pb =
            ProcessBuilder(
                    listOf(java, "-Xmx512m", "-XX:+UseSerialGC", "-Dkcluster.script.home=$scriptHome", "-jar", cliJar.toString()) + args
                )
                .directory(dir.toFile())
        pb.environment()["XDG_CACHE_HOME"] = cache.toString()
        return Running(pb.start().also { started += it })
    }

    fun cleanUp() {
        for (p in started) {
            runCatching { p.toHandle().descendants().forEach { it.destroyForcibly() } }
            p.destroyForcibly()
        }
        started.forEach { it.waitFor(10, TimeUnit.SECONDS) }
        dir.toFile().deleteRecursively()
    }

    class Running(val process: Process) {
        val startedAt: Long = System.nanoTime()
        private val out = Collector(process.inputStream)
        private val err = Collector(process.errorStream)
        val stdout: String
            get() = out.text()

        val stderr: String
            get() = err.text()

        val stderrLines: List<String>
            get() = err.lines.toList()

        fun signal(name: String) {
            val k = ProcessBuilder("kill", "-$name", process.pid().toString()).inheritIO().start()
            check(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0) { "kill -$name failed" }
        }

        fun awaitExit(seconds: Long = 60): Int {
            check(process.waitFor(seconds, TimeUnit.SECONDS)) {
                "cluster ${process.pid()} still running after $seconds s; stderr:\n$stderr"
            }
            out.thread.join(5_000)
            err.thread.join(5_000)
            return process.exitValue()
        }

        override fun toString(): String = "cluster ${process.pid()}; stderr:\n$stderr"
    }

    class Collector(input: java.io.InputStream) {
        val lines = CopyOnWriteArrayList<String>()
        val thread =
            Thread { input.bufferedReader().useLines { s -> s.forEach { lines += it } } }
                .apply {
                    isDaemon = true
                    start()
                }

        fun text(): String = lines.joinToString("\n")
    }

    companion object {
        fun freePort(): Int = ServerSocket(0).use { it.localPort }

        /** One HTTP/1.0 GET on a new connection; the response body, or null when nothing answers. */
        fun get(port: Int): String? =
            runCatching {
                    Socket().use { s ->
                        s.connect(InetSocketAddress("127.0.0.1", port), 2_000)
                        s.soTimeout = 5_000
                        s.getOutputStream().write("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".toByteArray())
                        val response = s.getInputStream().readBytes().decodeToString()
                        response.substringAfter("\r\n\r\n").trim().takeIf { response.startsWith("HTTP/1.") }
                    }
                }
                .getOrNull()

        /** Polls [probe] every 100 ms until it returns non-null, for at most [millis]. */
        suspend fun <T : Any> await(what: String, millis: Long = 120_000, probe: () -> T?): T =
            try {
                withTimeout(millis) {
                    var v = probe()
                    while (v == null) {
                        delay(100)
                        v = probe()
                    }
                    v
                }
            } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
                throw AssertionError("timed out after $millis ms waiting for $what")
            }
    }
}
