package dev.kcluster.cli

import com.github.ajalt.clikt.core.Context
import java.nio.file.Files
import java.nio.file.Paths
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/**
 * `cluster top -p F`: a live view of the workers, refreshed every second over the control socket (no metrics endpoint needed). The terminal
 * is put in raw mode with `stty` and restored on exit, Ctrl-C included; `q` quits; the view follows the terminal's size (`stty size`) at
 * every refresh.
 */
internal class TopCommand(transport: ControlTransport) : ControlCommand("top", transport) {
    override fun help(context: Context): String =
        "A live view of the workers (CPU, memory, connections, requests per second), refreshed every second; q quits."

    override fun run() {
        val saved = stty("-g")
        stty("raw -echo")
        val restore =
            Thread(
                {
                    saved?.let { stty(it) }
                    print("\u001b[?25h\r\n")
                    System.out.flush()
                },
                "kcluster-top-restore",
            )
        Runtime.getRuntime().addShutdownHook(restore)
        val quit = CountDownLatch(1)
        Thread(
                {
                    while (true) {
                        val c = runCatching { System.`in`.read() }.getOrDefault(-1)
                        if (c == -1 || c == 'q'.code || c == 'Q'.code || c == 3) {
                            quit.countDown()
                            break
                        }
                    }
                },
                "kcluster-top-keys",
            )
            .apply {
                isDaemon = true
                start()
            }
        val screen = TopScreen()
        print("\u001b[?25l")
        try {
            do {
                val r =
                    try {
                        call(ControlRequest("top"))
                    } catch (e: Exception) {
                        null
                    }
                val size = stty("size")?.trim()?.split(Regex("\\s+"))?.mapNotNull { it.toIntOrNull() }
                val rows = size?.getOrNull(0)?.takeIf { it > 0 } ?: 24
                val cols = size?.getOrNull(1)?.takeIf { it > 0 } ?: 80
                val lines =
                    if (r?.status != null) screen.render(r.status, System.nanoTime()) else listOf(r?.error ?: "cannot reach the watcher")
                val out = StringBuilder("\u001b[H\u001b[2J")
                lines.take(rows).forEach { out.append(it.take(cols)).append("\r\n") }
                print(out)
                System.out.flush()
            } while (!quit.await(1, TimeUnit.SECONDS))
        } finally {
            runCatching { Runtime.getRuntime().removeShutdownHook(restore) }
            restore.run()
        }
    }

    /** Runs `stty ARGS` on the controlling terminal; its output, or null when there is no terminal. */
    private fun stty(args: String): String? =
        runCatching {
                val p = ProcessBuilder("/bin/sh", "-c", "stty $args < /dev/tty").redirectErrorStream(false).start()
                val out = p.inputStream.bufferedReader().readText()
                if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) out.trim() else null
            }
            .getOrNull()
}

/** The lines of `cluster top`; keeps the previous sample of each worker to compute CPU % and req/s. */
internal class TopScreen {
    private class Sample(val nanos: Long, val cpuTicks: Long?, val requests: Long?)

    private val last = HashMap<Int, Sample>()

    fun render(s: ClusterStatus, now: Long): List<String> {
        val ready = s.workers.count { it.state == "READY" }
        val standbys = s.workers.count { it.isStandby }
        var totalRps = 0.0
        val rows =
            s.workers.sortedWith(compareBy({ if (it.isStandby) Int.MAX_VALUE else it.slot }, { it.id })).map { w ->
                val prev = last[w.id]
                val secs = prev?.let { (now - it.nanos) / 1e9 }?.takeIf { it > 0 }
                val cpu =
                    if (secs != null && w.cpuTicks != null && prev.cpuTicks != null) (w.cpuTicks - prev.cpuTicks) / CLOCK_TICKS / secs * 100
                    else null
                val rps = if (secs != null && w.requests != null && prev.requests != null) (w.requests - prev.requests) / secs else null
                rps?.let { totalRps += it }
                last[w.id] = Sample(now, w.cpuTicks, w.requests)
                listOf(
                    StatusTable.slot(w),
                    w.id.toString(),
                    w.pid.toString(),
                    w.state,
                    Durations.format(java.time.Duration.ofMillis(w.uptimeMillis - w.uptimeMillis % 1000)),
                    cpu?.let { "%.1f".format(it) } ?: "-",
                    w.rssBytes?.let(StatusTable::bytes) ?: "-",
                    w.heapBytes?.let(StatusTable::bytes) ?: "-",
                    w.connections?.toString() ?: "-",
                    rps?.let { "%.0f".format(it) } ?: "-",
                    w.restarts.toString(),
                )
            }
        last.keys.retainAll(s.workers.map { it.id }.toSet())
        val header =
            "cluster pid ${s.watcherPid}, ${s.target}: $ready/${s.workers.size - standbys} ready" +
                (if (standbys > 0) ", ${StatusTable.standbys(standbys)}" else "") +
                ", ${"%.0f".format(totalRps)} req/s   (q quits)"
        val table = listOf(HEADERS) + rows
        val widths = HEADERS.indices.map { i -> table.maxOf { it[i].length } }
        return listOf(header, "") + table.map { r -> r.mapIndexed { i, c -> c.padEnd(widths[i]) }.joinToString("  ").trimEnd() }
    }

    companion object {
        private val HEADERS = listOf("SLOT", "ID", "PID", "STATE", "UPTIME", "CPU%", "RSS", "HEAP", "CONNS", "REQ/S", "RESTARTS")
        /** USER_HZ: 100 on every Linux the JVM runs on. */
        private const val CLOCK_TICKS = 100.0

        /** utime + stime of [pid] in clock ticks, from `/proc/PID/stat`; null when unavailable. */
        fun cpuTicks(pid: Long): Long? =
            runCatching {
                    val stat = String(Files.readAllBytes(Paths.get("/proc/$pid/stat")))
                    val f = stat.substring(stat.lastIndexOf(')') + 2).split(' ')
                    f[11].toLong() + f[12].toLong() // fields 14 and 15, counted after pid and comm
                }
                .getOrNull()
    }
}
