@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.bench

import dev.kcluster.InternalKclusterApi
import dev.kcluster.logging.ClusterLog
import java.io.File
import java.lang.management.ManagementFactory
import java.nio.file.Path
import java.util.Locale
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking

/**
 * kcluster IPC benchmark (issue 2): client-socket transfers against a C SCM_RIGHTS loop, small-message throughput, ping-pong round trip and
 * 1 MiB throughput. Prints progress, then one markdown table. Run it with bench/ipc.sh.
 *
 * Options: `--c-bin PATH` (the compiled bench/c/scm_rights.c; without it the baseline is n/a), `--quick` (few iterations: checks the bench
 * works, numbers are not meaningful), `--only transfers|messages` (one half). Environment: `BENCH_CHILD_JVM_OPTS` (space-separated JVM
 * options for the child JVMs, e.g. a JFR recording), `BENCH_JVM_OPTS` (read by bench/ipc.sh), `BENCH_MONO=1` (progress lines end with
 * `System.nanoTime()` in seconds, to line them up with `perf record -k CLOCK_MONOTONIC` samples).
 */
public object IpcBench {
    private class Row(val metric: String, val value: Double?, val unit: String, val target: String, val ratio: String)

    private val rows = ArrayList<Row>()

    /** Entry point. */
    @JvmStatic
    public fun main(args: Array<String>) {
        Locale.setDefault(Locale.ROOT)
        ClusterLog.setLevel("warn")
        var cBin: String? = null
        var quick = false
        var only: String? = null
        var i = 0
        while (i < args.size) {
            when (args[i]) {
                "--c-bin" -> cBin = args.getOrNull(++i) ?: fail("--c-bin needs a path")
                "--quick" -> quick = true
                "--only" ->
                    only =
                        args.getOrNull(++i)?.takeIf { it == "transfers" || it == "messages" }
                            ?: fail("--only needs 'transfers' or 'messages'")
                else -> fail("unknown option ${args[i]}; options: --c-bin PATH, --quick, --only transfers|messages")
            }
            i++
        }
        val started = System.nanoTime()
        val loadBefore = loadAverage()

        if (only != "messages") transfers(cBin, quick)
        if (only != "transfers") messages(quick)

        val elapsed = (System.nanoTime() - started) / 1e9
        println()
        println("| metric | value | unit | target | ratio |")
        println("|---|---:|---|---|---|")
        for (r in rows) println("| ${r.metric} | ${r.value?.let { fmt(it) } ?: "n/a"} | ${r.unit} | ${r.target} | ${r.ratio} |")
        println()
        println(
            "JVM ${System.getProperty("java.vm.name")} ${System.getProperty("java.version")}, " +
                "${Runtime.getRuntime().availableProcessors()} CPUs, load average $loadBefore before / ${loadAverage()} after, " +
                "bench took ${"%.0f".format(elapsed)} s${if (quick) " (--quick: numbers not meaningful)" else ""}"
        )
    }

    /** 1. Client-socket transfers: the C baseline, then kcluster, same batches. */
    private fun transfers(cBin: String?, quick: Boolean) {
        val (batches, batchSize, warmup) = if (quick) Triple(3, 500, 1) else Triple(20, 1000, 15)
        val cOut = cBin?.let { runC(it, batches, batchSize, warmup) }
        val c = cOut?.get("median_batch_per_sec")
        progress(
            "C SCM_RIGHTS loop: ${cOut?.let { "${fmt(it.getValue("per_sec"))} transfers/s overall, median batch ${fmt(c!!)}" } ?: "n/a (no --c-bin)"}"
        )
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val t = TransferBench(java, System.getProperty("java.class.path"), childJvmOptions).run(batches, batchSize, warmup)
        val k = median(t.batchRates)
        progress(
            "kcluster pipe: ${fmt(t.perSecond)} transfers/s overall, median batch ${fmt(k)} (batches: ${t.batchRates.joinToString { fmt(it) }})"
        )
        rows +=
            Row(
                "client-socket transfers, kcluster pipe (median of $batches batches of $batchSize)",
                k,
                "transfers/s",
                ">= 0.5x C",
                c?.let { "%.2fx C".format(k / it) } ?: "n/a",
            )
        rows +=
            Row(
                "client-socket transfers, C SCM_RIGHTS baseline (median of $batches batches of $batchSize)",
                c,
                "transfers/s",
                "baseline",
                if (c != null) "1.00x" else "n/a",
            )
    }

    /** 2-4. Messages with a real worker JVM. */
    private fun messages(quick: Boolean) {
        runBlocking {
            MessageBench.with(this, childJvmOptions) { b ->
                val small = 32
                val warm = List(if (quick) 1 else 2) { b.flood(if (quick) 50_000 else 300_000, small) }.last()
                progress("small-message warm-up: ${fmt(warm.perSecond)} msgs/s")
                val count = (warm.perSecond * if (quick) 0.5 else 2.0).toInt().coerceIn(50_000, 3_000_000)
                val smallRuns = List(if (quick) 1 else 5) { b.flood(count, small) }
                progress("small-message runs of $count: ${smallRuns.joinToString { fmt(it.perSecond) }} msgs/s")
                val smallRate = median(smallRuns.map { it.perSecond })
                rows +=
                    Row(
                        "small messages one way ($small B, worker -> watcher), median of ${smallRuns.size}",
                        smallRate,
                        "msgs/s",
                        ">= 500000",
                        "%.2fx".format(smallRate / 500_000),
                    )

                b.pingPong(if (quick) 2_000 else 20_000)
                val rtt = b.pingPong(if (quick) 5_000 else 100_000)
                val p50 = rtt.percentileMicros(0.50)
                val p99 = rtt.percentileMicros(0.99)
                progress(
                    "ping-pong over ${rtt.sorted.size}: p50 ${fmt(p50)} us, p90 ${fmt(rtt.percentileMicros(0.9))} us, p99 ${fmt(p99)} us, max ${fmt(rtt.sorted.last() / 1000.0)} us"
                )
                rows +=
                    Row(
                        "ping-pong round trip p50 (watcher -> worker -> watcher)",
                        p50,
                        "us",
                        "<= 80",
                        "%.2fx (%s)".format(p50 / 80, if (p50 <= 80) "met" else "missed"),
                    )
                rows += Row("ping-pong round trip p99", p99, "us", "-", "-")

                val mib = 1 shl 20
                b.flood(if (quick) 50 else 1000, mib)
                val bigRuns = List(if (quick) 1 else 5) { b.flood(if (quick) 100 else 1000, mib) }
                progress("1 MiB runs: ${bigRuns.joinToString { fmt(it.mibPerSecond) }} MiB/s")
                val bigRate = median(bigRuns.map { it.mibPerSecond })
                rows +=
                    Row(
                        "1 MiB messages one way (worker -> watcher), median of ${bigRuns.size}",
                        bigRate,
                        "MiB/s",
                        ">= 440",
                        "%.2fx".format(bigRate / 440),
                    )
            }
        }
    }

    private val childJvmOptions: List<String> =
        System.getenv("BENCH_CHILD_JVM_OPTS")?.trim()?.split(Regex("\\s+"))?.filter { it.isNotEmpty() } ?: emptyList()

    /** Runs the C baseline; its `key=value` output. */
    private fun runC(bin: String, batches: Int, batchSize: Int, warmup: Int): Map<String, Double> {
        require(File(bin).canExecute()) { "--c-bin $bin is not an executable file; build bench/c/scm_rights.c (bench/ipc.sh does)" }
        val p = ProcessBuilder(bin, "$batches", "$batchSize", "$warmup").redirectError(ProcessBuilder.Redirect.INHERIT).start()
        val out = p.inputStream.bufferedReader().readText()
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            fail("$bin did not finish within 120 s")
        }
        if (p.exitValue() != 0) fail("$bin failed with exit code ${p.exitValue()}: $out")
        val values = Regex("(\\w+)=([0-9.]+)").findAll(out).associate { it.groupValues[1] to it.groupValues[2].toDouble() }
        if ("per_sec" !in values || "median_batch_per_sec" !in values) fail("unexpected output from $bin: $out")
        return values
    }

    private fun median(xs: List<Double>): Double =
        xs.sorted().let { s -> if (s.size % 2 == 1) s[s.size / 2] else (s[s.size / 2 - 1] + s[s.size / 2]) / 2 }

    private fun fmt(x: Double): String =
        when {
            x >= 1000 -> "%,.0f".format(x)
            x >= 100 -> "%.0f".format(x)
            else -> "%.1f".format(x)
        }

    private fun loadAverage(): String = "%.2f".format(ManagementFactory.getOperatingSystemMXBean().systemLoadAverage)

    private fun progress(s: String) =
        System.err.println("[bench] $s" + if (System.getenv("BENCH_MONO") != null) " @%.3f".format(System.nanoTime() / 1e9) else "")

    private fun fail(message: String): Nothing {
        System.err.println("bench: $message")
        kotlin.system.exitProcess(2)
    }
}
