@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.bench

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.WatcherConfig
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

/**
 * Lifecycle numbers of issue 3, with workers on default JVM options: start(2) to both READY, SIGKILL of a worker to its replacement READY,
 * idle worker RSS, and how fast workers exit after their watcher is SIGKILLed. Prints a markdown table (median, min, max over the rounds).
 */
public object LifecycleBench {
    private fun alive(pid: Long): Boolean {
        val stat = runCatching { Files.readString(Path.of("/proc/$pid/stat")) }.getOrNull() ?: return false
        return stat.substringAfterLast(") ").firstOrNull() != 'Z'
    }

    private fun rssMb(pid: Long): Double =
        Files.readAllLines(Path.of("/proc/$pid/status")).first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toDouble() / 1024

    private fun config(options: List<String>) = WatcherConfig(BenchWorker::class.java.name) { jvmOptions(options) }

    /** Entry point: `LifecycleBench [rounds]`, or `LifecycleBench --watcher` (the child used for the orphan test). */
    @JvmStatic
    public fun main(args: Array<String>): Unit = runBlocking {
        val jvm = System.getProperty("bench.workerJvm", "").split(' ').filter { it.isNotBlank() }
        if (args.firstOrNull() == "--watcher") {
            val w = ClusterWatcher(config(jvm))
            w.start(2)
            println("PIDS " + w.workers.joinToString(" ") { it.pid.toString() })
            System.out.flush()
            w.awaitTermination()
            return@runBlocking
        }
        val rounds = args.firstOrNull()?.toInt() ?: 5
        val start = mutableListOf<Double>()
        val respawn = mutableListOf<Double>()
        val backoff = mutableListOf<Double>()
        val rss = mutableListOf<Double>()
        val orphan = mutableListOf<Double>()
        repeat(rounds) {
            val w = ClusterWatcher(config(jvm))
            val t0 = System.nanoTime()
            w.start(2)
            start += (System.nanoTime() - t0) / 1e6
            delay(3_000) // idle: let start-up garbage settle before reading RSS
            w.workers.forEach { rss += rssMb(it.pid) }
            val victim = w.workers.first()
            val replaced = async { w.events.filterIsInstance<ClusterEvent.WorkerRespawned>().first() }
            val ready = async { w.events.filterIsInstance<ClusterEvent.WorkerReady>().first() }
            val t1 = System.nanoTime()
            ProcessHandle.of(victim.pid).ifPresent { it.destroyForcibly() }
            backoff += withTimeout(60_000) { replaced.await() }.delayMillis.toDouble()
            withTimeout(60_000) { ready.await() }
            respawn += (System.nanoTime() - t1) / 1e6
            w.stop()

            val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
            val child =
                ProcessBuilder(
                        listOf(java) +
                            KclusterJvm.ADD_OPENS +
                            listOf(
                                "-Dbench.workerJvm=${jvm.joinToString(" ")}",
                                "-cp",
                                System.getProperty("java.class.path"),
                                LifecycleBench::class.java.name,
                                "--watcher",
                            )
                    )
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start()
            val pids = child.inputStream.bufferedReader().readLine().removePrefix("PIDS ").split(' ').map(String::toLong)
            val environ = String(Files.readAllBytes(Path.of("/proc/${pids.first()}/environ"))).split('\u0000')
            val ipcDir = Path.of(environ.first { it.startsWith("KCLUSTER_SOCKET=") }.substringAfter('=')).parent
            val t2 = System.nanoTime()
            child.destroyForcibly()
            while (pids.any(::alive)) Thread.sleep(0, 200_000)
            orphan += (System.nanoTime() - t2) / 1e6
            ipcDir.toFile().deleteRecursively() // a SIGKILLed watcher cannot remove it itself
        }
        fun row(name: String, v: List<Double>, unit: String, goal: String, goalValue: Double?) {
            val s = v.sorted()
            val med = s[s.size / 2]
            val ratio = goalValue?.let { "%.2fx".format(med / it) } ?: "-"
            println("| $name | %.1f | %.1f | %.1f | $unit | $goal | $ratio |".format(med, s.first(), s.last()))
        }
        println("| metric | median | min | max | unit | goal | median / goal |")
        println("|---|---:|---:|---:|---|---|---|")
        row("start(2) to both READY", start, "ms", "-", null)
        row("SIGKILL of a worker to replacement READY", respawn, "ms", "<= 30", 30.0)
        row("  of which respawn backoff", backoff, "ms", "-", null)
        row("idle worker RSS", rss, "MiB", "<= 65", 65.0)
        row("watcher SIGKILL to all workers gone", orphan, "ms", "<= 50", 50.0)
        println()
        println(
            "$rounds rounds, worker JVM options: ${jvm.ifEmpty { listOf("(defaults)") }.joinToString(" ")}, " +
                "${Runtime.getRuntime().availableProcessors()} CPUs, JVM ${System.getProperty("java.vm.version")}"
        )
    }
}
