package dev.kcluster.cli

import java.nio.file.Files
import java.nio.file.Paths
import java.time.Duration

/** Renders a [ClusterStatus] as the `cluster status` table; reads resident memory from /proc. */
internal object StatusTable {
    private val headers = listOf("SLOT", "ID", "PID", "STATE", "UPTIME", "RESTARTS", "RSS", "HEAP", "CONNS", "REQUESTS", "LAST EXIT")

    /** The longest last-exit text in the table (the JSON form has it all). */
    private const val EXIT_WIDTH = 60

    fun render(status: ClusterStatus): String = buildString {
        val standbys = status.workers.count { it.isStandby }
        val n = status.workers.size - standbys
        append("cluster pid ${status.watcherPid}, target ${status.target}, $n worker${if (n == 1) "" else "s"}")
        if (standbys > 0) append(", ${standbys(standbys)}")
        status.socketMode?.let { append(", socket mode $it") }
        append('\n')
        append("listening: ${status.listening.joinToString(" ").ifEmpty { "-" }}\n")
        if (status.droppedMessages > 0) {
            append("dropped messages from workers: ${status.droppedMessages} (nothing consumes them under the cluster command)\n")
        }
        val rows =
            status.workers.map { w ->
                listOf(
                    slot(w),
                    w.id.toString(),
                    w.pid.toString(),
                    w.state,
                    Durations.format(Duration.ofMillis(w.uptimeMillis)),
                    w.restarts.toString(),
                    w.rssBytes?.let(::bytes) ?: "-",
                    w.heapBytes?.takeIf { it > 0 }?.let(::bytes) ?: "-",
                    w.connections?.toString() ?: "-",
                    w.requests?.toString() ?: "-",
                    w.lastExit?.lineSequence()?.first()?.let { if (it.length > EXIT_WIDTH) it.take(EXIT_WIDTH - 1) + "…" else it } ?: "-",
                )
            }
        val widths = headers.indices.map { i -> (rows.map { it[i].length } + headers[i].length).max() }
        for (row in listOf(headers) + rows) {
            append(row.mapIndexed { i, cell -> if (i == row.lastIndex) cell else cell.padEnd(widths[i]) }.joinToString("  ").trimEnd())
            append('\n')
        }
    }

    /** The SLOT cell: `-` for a standby. */
    fun slot(w: WorkerStatus): String = if (w.isStandby) "-" else w.slot.toString()

    /** "1 standby", "2 standbys". */
    fun standbys(n: Int): String = "$n standby${if (n == 1) "" else "s"}"

    /** The `cluster status --all-hosts` table: one row per member of the group; LEADER names the worker and epoch. */
    fun renderHosts(hosts: List<HostStatus>): String = buildString {
        append("${hosts.size} host${if (hosts.size == 1) "" else "s"}\n")
        val head = listOf("MEMBER", "HOST", "PID", "PHASE", "WORKERS", "ADDRESSES", "UPTIME", "LEADER")
        val now = System.currentTimeMillis()
        val rows =
            hosts.map { h ->
                listOf(
                    h.id,
                    h.host,
                    h.watcherPid.toString(),
                    h.phase,
                    "${h.ready}/${h.workers} ready",
                    h.addresses.joinToString(",").ifEmpty { "-" },
                    Durations.format(Duration.ofMillis((now - h.startedAtMillis).coerceAtLeast(0))),
                    h.leaderWorker?.let { "worker $it (epoch ${h.leaderEpoch})" } ?: "-",
                )
            }
        val widths = head.indices.map { i -> (rows.map { it[i].length } + head[i].length).max() }
        for (row in listOf(head) + rows) {
            append(row.mapIndexed { i, cell -> if (i == row.lastIndex) cell else cell.padEnd(widths[i]) }.joinToString("  ").trimEnd())
            append('\n')
        }
    }

    /** `512 KiB`, `83.4 MiB`, `1.2 GiB`. */
    fun bytes(n: Long): String =
        when {
            n < 1024 * 1024 -> "${n / 1024} KiB"
            n < 1024L * 1024 * 1024 -> "%.1f MiB".format(java.util.Locale.ROOT, n / (1024.0 * 1024))
            else -> "%.1f GiB".format(java.util.Locale.ROOT, n / (1024.0 * 1024 * 1024))
        }

    /** The resident set size of [pid] from `/proc/<pid>/status` (VmRSS), or null when unavailable. */
    fun rssBytes(pid: Long): Long? =
        runCatching {
                Files.readAllLines(Paths.get("/proc/$pid/status"))
                    .firstOrNull { it.startsWith("VmRSS:") }
                    ?.removePrefix("VmRSS:")
                    ?.trim()
                    ?.removeSuffix("kB")
                    ?.trim()
                    ?.toLong()
                    ?.times(1024)
            }
            .getOrNull()
}
