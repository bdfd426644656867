@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.testing

import dev.kcluster.ClusterWatcher
import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.WatcherConfig
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList

/** Marks every JVM this suite starts, so the suite can prove none survives it. */
val SUITE_MARK: String = "-Dkcluster.test.suite=" + UUID.randomUUID()

/** Small, quick-starting JVMs for test workers, forwarding whole log records (see [ForwardingProvider]). */
val TEST_JVM = listOf("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", SUITE_MARK, FORWARDING)

fun testConfig(main: Class<*>, vararg args: String, configure: WatcherConfig.Builder.() -> Unit = {}): WatcherConfig =
    WatcherConfig(main.name) {
        jvmOptions(TEST_JVM)
        args(*args)
        configure()
    }

/** Starts a watcher with [n] workers, runs [block], and always stops it. */
suspend fun <T> withWatcher(config: WatcherConfig, n: Int, block: suspend (ClusterWatcher) -> T): T {
    val w = ClusterWatcher(config)
    try {
        w.start(n)
        return block(w)
    } finally {
        w.stop()
    }
}

private val started = CopyOnWriteArrayList<Process>()

/**
 * Starts a JVM running [main] with this test classpath, and Logback as its backend like this JVM (it is a watcher or a standalone program,
 * not a worker); it is killed at the end of the suite at the latest.
 */
fun startJvm(
    main: Class<*>,
    vararg args: String,
    extraJvm: List<String> = emptyList(),
    ignoredSignals: List<String> = emptyList(),
): Process {
    val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
    val cmd =
        listOf(java) +
            (TEST_JVM - FORWARDING) +
            extraJvm +
            KclusterJvm.ADD_OPENS +
            listOf("-cp", System.getProperty("java.class.path"), main.name) +
            args
    // A process started with signals ignored, as under nohup: the shell's `trap ''` sets SIG_IGN, which exec keeps.
    val wrapped =
        if (ignoredSignals.isEmpty()) cmd
        else listOf("/bin/sh", "-c", "trap '' ${ignoredSignals.joinToString(" ")}; exec \"$@\"", "sh") + cmd
    return ProcessBuilder(wrapped).start().also(started::add)
}

/** Pids of live processes that carry this suite's mark. */
fun markedPids(): List<Long> {
    val mark = SUITE_MARK.toByteArray()
    return File("/proc")
        .listFiles { f -> f.name.all(Char::isDigit) }
        .orEmpty()
        .mapNotNull { dir ->
            val cmd = runCatching { Files.readAllBytes(dir.toPath().resolve("cmdline")) }.getOrNull() ?: return@mapNotNull null
            val state = runCatching { Files.readString(dir.toPath().resolve("stat")).substringAfterLast(") ").firstOrNull() }.getOrNull()
            if (state != 'Z' && cmd.indexOf(mark) >= 0) dir.name.toLong() else null
        }
        .filter { it != ProcessHandle.current().pid() }
}

private fun ByteArray.indexOf(needle: ByteArray): Int {
    outer@ for (i in 0..size - needle.size) {
        for (j in needle.indices) if (this[i + j] != needle[j]) continue@outer
        return i
    }
    return -1
}

fun killAllStarted() =
    started.forEach { p ->
        p.descendants().forEach { it.destroyForcibly() }
        p.destroyForcibly()
    }

fun fdCount(): Int = File("/proc/self/fd").list()!!.size

fun rssKb(pid: Long): Long? =
    runCatching { Files.readAllLines(Path.of("/proc/$pid/status")).first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toLong() }
        .getOrNull()

fun signal(pid: Long, sig: String) {
    val p = ProcessBuilder("kill", "-$sig", pid.toString()).inheritIO().start()
    check(p.waitFor() == 0) { "kill -$sig $pid failed" }
}

/** The private IPC directory of the watcher that launched worker [pid] (from the worker's KCLUSTER_SOCKET). */
fun ipcDirOf(pid: Long): Path {
    val environ = String(Files.readAllBytes(Path.of("/proc/$pid/environ"))).split('\u0000')
    return Path.of(environ.first { it.startsWith("KCLUSTER_SOCKET=") }.substringAfter('=')).parent
}
