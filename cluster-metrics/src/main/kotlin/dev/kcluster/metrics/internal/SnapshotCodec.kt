package dev.kcluster.metrics.internal

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets
import io.prometheus.metrics.model.snapshots.CounterSnapshot
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot
import io.prometheus.metrics.model.snapshots.Exemplars
import io.prometheus.metrics.model.snapshots.GaugeSnapshot
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot
import io.prometheus.metrics.model.snapshots.HistogramSnapshot
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot
import io.prometheus.metrics.model.snapshots.InfoSnapshot
import io.prometheus.metrics.model.snapshots.Labels
import io.prometheus.metrics.model.snapshots.MetricMetadata
import io.prometheus.metrics.model.snapshots.MetricSnapshot
import io.prometheus.metrics.model.snapshots.MetricSnapshots
import io.prometheus.metrics.model.snapshots.Quantile
import io.prometheus.metrics.model.snapshots.Quantiles
import io.prometheus.metrics.model.snapshots.SummarySnapshot
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot
import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.io.DataInputStream
import java.io.DataOutputStream

/**
 * A worker's metric snapshots on the wire (the METRICS frame): the Prometheus data model (counters, gauges, classic histograms, summaries,
 * info) in a compact binary form, so the watcher rebuilds the same snapshots and the Prometheus library writes the exposition format.
 * Exemplars, created timestamps and native histograms are not carried; other metric types are skipped.
 */
internal object SnapshotCodec {
    private const val COUNTER = 1
    private const val GAUGE = 2
    private const val HISTOGRAM = 3
    private const val SUMMARY = 4
    private const val INFO = 5

    fun encode(snapshots: MetricSnapshots): ByteArray {
        val bytes = ByteArrayOutputStream(4096)
        val out = DataOutputStream(bytes)
        val kept = snapshots.filter { kind(it) != 0 }
        out.writeInt(kept.size)
        for (s in kept) {
            out.writeByte(kind(s))
            out.writeUTF(s.metadata.name)
            out.writeUTF(s.metadata.help ?: "")
            out.writeInt(s.dataPoints.size)
            for (p in s.dataPoints) {
                writeLabels(out, p.labels)
                when (s) {
                    is CounterSnapshot -> out.writeDouble((p as CounterDataPointSnapshot).value)
                    is GaugeSnapshot -> out.writeDouble((p as GaugeDataPointSnapshot).value)
                    is HistogramSnapshot -> {
                        p as HistogramDataPointSnapshot
                        out.writeDouble(if (p.hasSum()) p.sum else Double.NaN)
                        val b = p.classicBuckets
                        out.writeInt(b.size())
                        for (i in 0 until b.size()) {
                            out.writeDouble(b.getUpperBound(i))
                            out.writeLong(b.getCount(i))
                        }
                    }
                    is SummarySnapshot -> {
                        p as SummaryDataPointSnapshot
                        out.writeLong(if (p.hasCount()) p.count else -1)
                        out.writeDouble(if (p.hasSum()) p.sum else Double.NaN)
                        out.writeInt(p.quantiles.size())
                        for (q in p.quantiles) {
                            out.writeDouble(q.quantile)
                            out.writeDouble(q.value)
                        }
                    }
                    else -> {} // info: labels only
                }
            }
        }
        out.flush()
        return bytes.toByteArray()
    }

    /** Decodes [payload], adding [extra] labels to every data point. Throws on a malformed payload. */
    fun decode(payload: ByteArray, extra: Labels): List<MetricSnapshot> {
        val inp = DataInputStream(ByteArrayInputStream(payload))
        val n = inp.readInt()
        require(n in 0..100_000) { "bad metric count $n" }
        val result = ArrayList<MetricSnapshot>(n)
        repeat(n) {
            val kind = inp.readUnsignedByte()
            val meta = MetricMetadata(inp.readUTF(), inp.readUTF().ifEmpty { null })
            val points = inp.readInt()
            require(points in 0..1_000_000) { "bad data point count $points" }
            fun labels() = readLabels(inp).merge(extra)
            when (kind) {
                COUNTER ->
                    result +=
                        CounterSnapshot(
                            meta,
                            List(points) {
                                val l = labels()
                                CounterDataPointSnapshot(inp.readDouble(), l, null, 0L)
                            },
                        )
                GAUGE ->
                    result +=
                        GaugeSnapshot(
                            meta,
                            List(points) {
                                val l = labels()
                                GaugeDataPointSnapshot(inp.readDouble(), l, null)
                            },
                        )
                HISTOGRAM ->
                    result +=
                        HistogramSnapshot(
                            meta,
                            List(points) {
                                val l = labels()
                                val sum = inp.readDouble()
                                val size = inp.readInt()
                                require(size in 0..10_000) { "bad bucket count $size" }
                                val bounds = DoubleArray(size)
                                val counts = LongArray(size)
                                for (i in 0 until size) {
                                    bounds[i] = inp.readDouble()
                                    counts[i] = inp.readLong()
                                }
                                HistogramDataPointSnapshot(ClassicHistogramBuckets.of(bounds, counts), sum, l, Exemplars.EMPTY, 0L)
                            },
                        )
                SUMMARY ->
                    result +=
                        SummarySnapshot(
                            meta,
                            List(points) {
                                val l = labels()
                                val count = inp.readLong()
                                val sum = inp.readDouble()
                                val size = inp.readInt()
                                require(size in 0..1_000) { "bad quantile count $size" }
                                val qs = List(size) { Quantile(inp.readDouble(), inp.readDouble()) }
                                SummaryDataPointSnapshot(count, sum, Quantiles.of(qs), l, Exemplars.EMPTY, 0L)
                            },
                        )
                INFO -> result += InfoSnapshot(meta, List(points) { InfoSnapshot.InfoDataPointSnapshot(labels()) })
                else -> throw IllegalArgumentException("unknown metric kind $kind")
            }
        }
        return result
    }

    private fun kind(s: MetricSnapshot): Int =
        when (s) {
            is CounterSnapshot -> COUNTER
            is GaugeSnapshot -> GAUGE
            is HistogramSnapshot -> if (s.isGaugeHistogram) 0 else HISTOGRAM
            is SummarySnapshot -> SUMMARY
            is InfoSnapshot -> INFO
            else -> 0
        }

    private fun writeLabels(out: DataOutputStream, labels: Labels) {
        out.writeShort(labels.size())
        for (i in 0 until labels.size()) {
            out.writeUTF(labels.getName(i))
            out.writeUTF(labels.getValue(i))
        }
    }

    private fun readLabels(inp: DataInputStream): Labels {
        val n = inp.readUnsignedShort()
        val names = Array(n) { "" }
        val values = Array(n) { "" }
        for (i in 0 until n) {
            names[i] = inp.readUTF()
            values[i] = inp.readUTF()
        }
        return Labels.of(names, values)
    }
}
