@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.samples

import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.testing.awaitUntil
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_35_0.Metrics.MetricFamily
import java.net.InetAddress
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * `cluster run --metrics`: HelloHttp on 2 workers through the real `cluster` command, scraped over HTTP while it serves load. The scrape is
 * parsed by the Prometheus client library's own parser (the generated `MetricFamily` of its protobuf exposition format; the Java client
 * ships no text parser), and the text format is checked to be what a plain scrape gets.
 */
class HelloHttpMetricsTest :
    FunSpec({
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val classpath = System.getProperty("java.class.path")
        val http = HttpClient.newHttpClient()

        fun cli(vararg args: String): ProcessBuilder =
            ProcessBuilder(listOf(java) + KclusterJvm.ADD_OPENS + listOf("-cp", classpath, "dev.kcluster.cli.ClusterCli") + args)

        fun control(vararg args: String): String {
            val p = cli(*args).redirectErrorStream(true).start()
            val out = p.inputStream.bufferedReader().readText()
            check(p.waitFor(60, TimeUnit.SECONDS)) { "cluster ${args.joinToString(" ")} did not finish" }
            return out
        }

        fun scrape(port: Int): List<MetricFamily> {
            val req =
                HttpRequest.newBuilder(URI("http://127.0.0.1:$port/metrics"))
                    .header("Accept", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
                    .build()
            val body = http.send(req, HttpResponse.BodyHandlers.ofInputStream()).body()
            return body.use { generateSequence { MetricFamily.parseDelimitedFrom(it) }.toList() }
        }

        fun List<MetricFamily>.family(name: String) = single { it.name == name }
        fun MetricFamily.byLabel(
            label: String
        ): Map<String, List<io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_35_0.Metrics.Metric>> =
            metricList.groupBy { m -> m.labelList.single { it.name == label }.value }
        fun List<MetricFamily>.workers(): Set<String> = family("jvm_threads_live_threads").byLabel("worker").keys
        fun List<MetricFamily>.requests(): Long = family("http_server_requests_seconds").metricList.sumOf { it.histogram.sampleCount }
        fun List<MetricFamily>.crashRestarts(): Double =
            family("kcluster_worker_restarts_total").metricList.single { m -> m.labelList.any { it.value == "crash" } }.counter.value

        test("one endpoint serves every worker's series, labelled; requests add up; a killed worker's series go") {
            val dir = Files.createTempDirectory("kcluster-metrics")
            val pidFile = dir.resolve("hello.pid").toString()
            val port = ServerSocket(0).use { it.localPort }
            val metricsPort = ServerSocket(0).use { it.localPort }
            val watcher =
                cli(
                        "--workers",
                        "2",
                        "--pid-file",
                        pidFile,
                        "--metrics",
                        "127.0.0.1:$metricsPort",
                        "--metrics-interval",
                        "200ms",
                        "--jvm-opt",
                        "-Xmx64m",
                        "--jvm-opt",
                        "-XX:+UseSerialGC",
                        "--jvm-opt",
                        "-XX:TieredStopAtLevel=1",
                        "dev.kcluster.samples.HelloHttp",
                        "--port",
                        port.toString(),
                    )
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(dir.resolve("watcher.log").toFile())
                    .start()
            try {
                awaitUntil("2 workers READY", 60_000, pollMillis = 200) {
                    Regex("READY").findAll(control("status", "-p", pidFile)).count() >= 2
                }
                val sent = 300
                repeat(sent) {
                    val r =
                        http.send(HttpRequest.newBuilder(URI("http://127.0.0.1:$port/")).build(), HttpResponse.BodyHandlers.discarding())
                    r.statusCode() shouldBe 200
                }
                awaitUntil("both workers' series and $sent requests in the scrape", 20_000, pollMillis = 100) {
                    val m = runCatching { scrape(metricsPort) }.getOrNull() ?: return@awaitUntil false
                    m.workers() == setOf("1", "2") && m.requests() == sent.toLong()
                }
                val families = scrape(metricsPort)
                // Every worker series carries worker and slot; the watcher's own carry neither.
                for (f in families) {
                    val own = f.name.startsWith("kcluster_")
                    for (m in f.metricList) {
                        val names = m.labelList.map { it.name }.toSet()
                        if (own) (names.contains("worker") || names.contains("slot")) shouldBe false
                        else names shouldContainAll setOf("worker", "slot")
                    }
                }
                for (w in listOf("1", "2")) {
                    val slots =
                        families.family("jvm_threads_live_threads").byLabel("worker").getValue(w).map { m ->
                            m.labelList.single { it.name == "slot" }.value
                        }
                    slots shouldBe listOf(w) // ids 1 and 2 start in slots 1 and 2
                }
                families.map { it.name } shouldContainAll
                    listOf(
                        "jvm_memory_used_bytes",
                        "jvm_gc_memory_allocated_bytes_total",
                        "process_cpu_usage",
                        "http_server_connections",
                        "kcluster_workers",
                        "kcluster_ipc_frames_total",
                        "kcluster_ipc_bytes_total",
                        "kcluster_standby_workers",
                        "kcluster_worker_crashes_total",
                        "kcluster_reload_duration_seconds",
                    )
                families.family("kcluster_workers").metricList.single { m -> m.labelList.any { it.value == "ready" } }.gauge.value shouldBe
                    2.0
                families.crashRestarts() shouldBe 0.0

                // The text format is what a plain scrape gets.
                val text =
                    http.send(
                        HttpRequest.newBuilder(URI("http://127.0.0.1:$metricsPort/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString(),
                    )
                text.headers().firstValue("Content-Type").get() shouldStartWith "text/plain"
                text.body().lines().any { it.startsWith("jvm_threads_live_threads{slot=\"1\",worker=\"1\"}") } shouldBe true

                // SIGKILL worker 1: its series go, the replacement's appear, the crash restart is counted.
                val pid1 =
                    control("status", "-p", pidFile)
                        .lines()
                        .map { it.trim().split(Regex("\\s+")) }
                        .single { it.size > 3 && it[1] == "1" && it[3] == "READY" }[2] // SLOT ID PID STATE ...
                        .toLong()
                ProcessHandle.of(pid1).get().destroyForcibly()
                awaitUntil("worker 1's series gone, worker 3's there, one crash restart", 30_000, pollMillis = 100) {
                    val m = runCatching { scrape(metricsPort) }.getOrNull() ?: return@awaitUntil false
                    m.workers() == setOf("2", "3") &&
                        m.crashRestarts() == 1.0 &&
                        m.family("kcluster_worker_crashes_total").metricList.single().counter.value == 1.0
                }
                control("stop", "-p", pidFile)
                watcher.waitFor(60, TimeUnit.SECONDS) shouldBe true
            } finally {
                watcher.descendants().forEach { it.destroyForcibly() }
                watcher.destroyForcibly()
                dir.toFile().deleteRecursively()
            }
        }

        test("--metrics on a taken port refuses to start with one clear line") {
            ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { taken ->
                val p =
                    cli("--metrics", "127.0.0.1:${taken.localPort}", "dev.kcluster.samples.HelloHttp", "--port", "0")
                        .redirectErrorStream(true)
                        .start()
                val out = p.inputStream.bufferedReader().readText()
                p.waitFor(60, TimeUnit.SECONDS) shouldBe true
                p.exitValue() shouldBe 1
                out.lines().filter { it.startsWith("cluster: ") } shouldBe
                    listOf(
                        "cluster: cannot start dev.kcluster.samples.HelloHttp: cannot serve metrics at 127.0.0.1:${taken.localPort}: Address already in use"
                    )
            }
        }
    })
