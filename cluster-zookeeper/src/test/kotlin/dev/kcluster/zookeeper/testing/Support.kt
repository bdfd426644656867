package dev.kcluster.zookeeper.testing

import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Path
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout

/** Marks every JVM this suite starts. */
val SUITE_MARK: String = "-Dkcluster.test.suite=" + UUID.randomUUID()

/** Small, quick-starting JVMs. */
val TEST_JVM: List<String> = listOf("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", SUITE_MARK)

/** Polls [condition] until true; fails naming [what] after [timeoutMillis]. */
suspend fun awaitUntil(what: String, timeoutMillis: Long = 30_000, condition: () -> Boolean) {
    try {
        withTimeout(timeoutMillis) { while (!condition()) delay(20) }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("timed out after $timeoutMillis ms waiting for: $what")
    }
}

/** A JVM of this test classpath, its stdout lines in [lines] (taken by [awaitLine]) and in [seen] (kept), its stderr in [stderr]. */
class Jvm(val process: Process, val stderr: File) {
    val lines = LinkedBlockingQueue<String>()
    val seen = CopyOnWriteArrayList<String>()
    val pid: Long
        get() = process.pid()

    init {
        Thread(
                {
                    BufferedReader(InputStreamReader(process.inputStream)).forEachLine {
                        seen.add(it)
                        lines.add(it)
                    }
                },
                "jvm-out",
            )
            .apply {
                isDaemon = true
                start()
            }
    }

    /** The first stdout line starting with [prefix], waiting up to [timeoutMillis]. */
    fun awaitLine(prefix: String, timeoutMillis: Long = 60_000): String {
        val end = System.nanoTime() + timeoutMillis * 1_000_000
        while (true) {
            val left = (end - System.nanoTime()) / 1_000_000
            if (left <= 0) throw AssertionError("no line '$prefix…' from pid $pid within $timeoutMillis ms (alive=${process.isAlive})")
            val l = lines.poll(left, TimeUnit.MILLISECONDS) ?: continue
            if (l.startsWith(prefix)) return l
        }
    }

    fun kill() {
        process.descendants().forEach { it.destroyForcibly() }
        process.destroyForcibly()
        process.waitFor(10, TimeUnit.SECONDS)
    }

    /** How many stderr lines contain [text]. */
    fun stderrCount(text: String): Int = stderr.readLines().count { text in it }
}

private val started = CopyOnWriteArrayList<Jvm>()

/** Starts [main] in a JVM of this test classpath, behind the command prefix [wrapper] (e.g. `ip netns exec NAME`) if given. */
fun startJvm(main: Class<*>, vararg args: String, wrapper: List<String> = emptyList()): Jvm {
    val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
    val cmd =
        wrapper +
            listOf(java) +
            TEST_JVM +
            listOf("--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), main.name) +
            args
    val err = File.createTempFile("kcluster-jvm", ".err")
    return Jvm(ProcessBuilder(cmd).redirectError(err).start(), err).also(started::add)
}

fun killAllStarted() {
    started.forEach {
        it.kill()
        it.stderr.delete()
    }
    started.clear()
}

fun signal(pid: Long, sig: String) {
    check(ProcessBuilder("kill", "-$sig", pid.toString()).inheritIO().start().waitFor() == 0) { "kill -$sig $pid failed" }
}

fun freePort(): Int = ServerSocket(0).use { it.localPort }

/** One HTTP GET to 127.0.0.1:[port]; the body, or null when nothing answered. */
fun httpGet(port: Int): String? =
    runCatching {
            Socket().use { s ->
                s.connect(InetSocketAddress("127.0.0.1", port), 2_000)
                s.soTimeout = 5_000
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".toByteArray())
                val text = s.getInputStream().readBytes().decodeToString()
                if (text.startsWith("HTTP/1.1 200")) text.substringAfter("\r\n\r\n") else null
            }
        }
        .getOrNull()

/** One line of a grant log written by [LeaderWorker]. */
data class GrantEvent(val micros: Long, val granted: Boolean, val epoch: Long, val workerPid: Long, val watcherPid: Long)

fun readGrants(file: File): List<GrantEvent> =
    if (!file.exists()) emptyList()
    else
        file
            .readLines()
            .filter { it.isNotBlank() }
            .map { l ->
                val p = l.split(' ')
                GrantEvent(p[0].toLong(), p[1] == "GRANT", p[2].toLong(), p[3].toLong(), p[4].toLong())
            }

/**
 * The current holders from a grant log (workers with a GRANT not followed by their REVOKE), treating the workers in [dead] as having lost
 * it when they died.
 */
fun holders(events: List<GrantEvent>, dead: Set<Long> = emptySet()): Set<Long> {
    val h = mutableSetOf<Long>()
    for (e in events.sortedBy { it.micros }) if (e.granted) h += e.workerPid else h -= e.workerPid
    return h - dead
}

/**
 * Checks a grant log for overlap: at any instant at most one holder. A worker that died without a REVOKE line is taken to have held until
 * [deathMicros] says (its kill time). Returns a description of the first overlap, or null. Epochs must grow with every grant.
 */
fun overlap(events: List<GrantEvent>, deathMicros: Map<Long, Long> = emptyMap()): String? {
    val all = events.toMutableList()
    val open = mutableSetOf<Long>()
    for (e in events.sortedBy { it.micros }) if (e.granted) open += e.workerPid else open -= e.workerPid
    for (pid in open) deathMicros[pid]?.let { all += GrantEvent(it, false, 0, pid, -1) }
    val holders = mutableSetOf<Long>()
    var lastEpoch = 0L
    for (e in all.sortedWith(compareBy({ it.micros }, { if (it.granted) 1 else 0 }))) {
        if (e.granted) {
            if (e.epoch <= lastEpoch) return "epoch ${e.epoch} granted to ${e.workerPid} after epoch $lastEpoch"
            lastEpoch = e.epoch
            if (holders.isNotEmpty())
                return "at ${e.micros} worker ${e.workerPid} was granted epoch ${e.epoch} while $holders held leadership"
            holders += e.workerPid
        } else {
            holders -= e.workerPid
        }
    }
    return null
}

/** A free temporary file name (the file does not exist yet); whatever a worker writes there is deleted when this JVM exits. */
fun tempFile(prefix: String): File =
    File.createTempFile(prefix, ".log").apply {
        delete()
        deleteOnExit()
    }
