package dev.kcluster.cli.testing

import dev.kcluster.cli.ClusterStatus
import dev.kcluster.cli.ControlProtocol
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * Runs the real fat jar (`java -jar kcluster-cli.jar`) as processes for the e2e tests, and cleans up after them: every watcher, its
 * descendants, and every worker pid seen in a status.
 */
internal class CliHarness {
    val jar: Path =
        Paths.get(
            System.getProperty("kcluster.cli.jar") ?: error("system property kcluster.cli.jar is not set (run the e2e tests through Maven)")
        )
    val testClasses: String = System.getProperty("kcluster.cli.testClasses") ?: error("system property kcluster.cli.testClasses is not set")
    val dir: Path = Files.createTempDirectory("kcl-e2e")
    private val java = Paths.get(System.getProperty("java.home"), "bin", "java").toString()
    private val started = CopyOnWriteArrayList<Process>()
    private val workerPids = CopyOnWriteArrayList<Long>()

    init {
        check(Files.isRegularFile(jar)) { "$jar is missing: the e2e tests run after `package`" }
    }

    /** Worker options that keep test JVMs small. */
    val workerJvm = listOf("--jvm-opt=-Xmx64m", "--jvm-opt=-XX:+UseSerialGC", "--jvm-opt=-XX:TieredStopAtLevel=1", "--jvm-opt=-Xshare:auto")

    private fun command(args: List<String>) =
        listOf(java, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", jar.toString()) + args

    /** Starts a long-running `cluster ...`; its output is collected line by line. */
    fun start(vararg args: String, wrapper: List<String> = emptyList()): Running {
        val p = ProcessBuilder(wrapper + command(args.toList())).start()
        started += p
        return Running(p)
    }

    /** Registers a process started elsewhere for [cleanUp]. */
    fun track(p: Process) {
        started += p
    }

    /** Runs a short `cluster ...` (a control command, a failing start) to completion. */
    fun run(vararg args: String, timeoutSeconds: Long = 120): Result {
        val p = ProcessBuilder(command(args.toList())).start()
        started += p
        val out = Collector(p.inputStream)
        val err = Collector(p.errorStream)
        check(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) { "cluster ${args.joinToString(" ")} did not finish in $timeoutSeconds s" }
        out.thread.join(5_000)
        err.thread.join(5_000)
        return Result(p.exitValue(), out.text(), err.text())
    }

    /** `status --json` of the cluster with [pidFile]. */
    fun status(pidFile: Path): ClusterStatus {
        val r = run("status", "-p", pidFile.toString(), "--json")
        check(r.code == 0) { "status failed: $r" }
        val status = ControlProtocol.json.decodeFromString(ClusterStatus.serializer(), r.stdout)
        workerPids += status.workers.map { it.pid }
        return status
    }

    /** `kill -NAME pid`; a negative [pid] signals that process group. */
    fun signal(pid: Long, name: String) {
        val p = ProcessBuilder("kill", "-$name", "--", pid.toString()).inheritIO().start()
        check(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) { "kill -$name $pid failed" }
    }

    /** Kills everything the tests started that is still alive. */
    fun cleanUp() {
        for (p in started) {
            runCatching { p.toHandle().descendants().forEach { it.destroyForcibly() } }
            p.destroyForcibly()
        }
        for (pid in workerPids) {
            ProcessHandle.of(pid).ifPresent { h ->
                if (h.info().commandLine().orElse("").contains("dev.kcluster.internal.worker.WorkerMain")) h.destroyForcibly()
            }
        }
        started.forEach { it.waitFor(10, TimeUnit.SECONDS) }
        dir.toFile().deleteRecursively()
    }

    data class Result(val code: Int, val stdout: String, val stderr: String)

    class Running(val process: Process) {
        val pid: Long = process.pid()
        private val out = Collector(process.inputStream)
        private val err = Collector(process.errorStream)

        val stderr: String
            get() = err.text()

        val stdout: String
            get() = out.text()

        /** Waits for the process to exit; its exit code. */
        fun awaitExit(timeoutSeconds: Long = 60): Int {
            check(process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                "watcher $pid still running after $timeoutSeconds s; stderr:\n$stderr"
            }
            err.thread.join(5_000)
            return process.exitValue()
        }

        override fun toString(): String = "watcher $pid; stderr:\n$stderr"
    }

    class Collector(input: java.io.InputStream) {
        private val lines = CopyOnWriteArrayList<String>()
        val thread =
            Thread { input.bufferedReader().useLines { s -> s.forEach { lines += it } } }
                .apply {
                    isDaemon = true
                    start()
                }

        fun text(): String = lines.joinToString("\n")
    }
}

/** True while a process with [pid] exists. */
fun alive(pid: Long): Boolean = ProcessHandle.of(pid).map { it.isAlive }.orElse(false)
