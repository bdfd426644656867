package dev.kcluster.metrics

import dev.kcluster.metrics.internal.SnapshotCodec
import io.kotest.assertions.throwables.shouldThrowAny
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.micrometer.core.instrument.Counter
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.Timer
import io.micrometer.prometheusmetrics.PrometheusConfig
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter
import io.prometheus.metrics.model.snapshots.Labels
import io.prometheus.metrics.model.snapshots.MetricSnapshots
import java.io.ByteArrayOutputStream
import java.time.Duration

class SnapshotCodecTest :
    FunSpec({
        fun text(s: MetricSnapshots) = ByteArrayOutputStream().also { PrometheusTextFormatWriter.create().write(it, s) }.toString()

        test("counters, gauges, histograms and summaries survive the wire, with the worker labels added") {
            val r = PrometheusMeterRegistry(PrometheusConfig.DEFAULT)
            Counter.builder("jobs").tag("kind", "a").register(r).increment(3.0)
            Gauge.builder("queue") { 7.0 }.register(r)
            val t = Timer.builder("lat").serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(10)).register(r)
            t.record(Duration.ofMillis(5))
            t.record(Duration.ofMillis(50))
            Timer.builder("plain").register(r).record(Duration.ofMillis(2))
            val original = r.prometheusRegistry.scrape()
            val decoded = MetricSnapshots(SnapshotCodec.decode(SnapshotCodec.encode(original), Labels.of("worker", "4", "slot", "2")))
            val expected =
                text(original).lines().map { line ->
                    if (line.startsWith("#") || line.isBlank()) line
                    else
                        line.replace(Regex("^([a-z_]+)(\\{([^}]*)\\})?")) { m ->
                            val labels =
                                listOfNotNull(m.groupValues[3].ifEmpty { null }, "slot=\"2\"", "worker=\"4\"")
                                    .flatMap { it.split(",") }
                                    .sortedBy { it.substringBefore('=').let { n -> if (n == "le" || n == "quantile") "~$n" else n } }
                            "${m.groupValues[1]}{${labels.joinToString(",")}}"
                        }
                }
            text(decoded).lines() shouldBe expected
        }

        test("a truncated or garbled payload is an error, not a partial snapshot") {
            val r = PrometheusMeterRegistry(PrometheusConfig.DEFAULT)
            Counter.builder("jobs").register(r).increment()
            val bytes = SnapshotCodec.encode(r.prometheusRegistry.scrape())
            shouldThrowAny { SnapshotCodec.decode(bytes.copyOf(bytes.size - 3), Labels.EMPTY) }
            shouldThrowAny { SnapshotCodec.decode(byteArrayOf(0x7f, 0, 0, 0), Labels.EMPTY) }
        }
    })
