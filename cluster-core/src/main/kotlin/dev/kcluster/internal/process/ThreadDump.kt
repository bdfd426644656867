package dev.kcluster.internal.process

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/** Takes a thread dump of another JVM with `jcmd <pid> Thread.print` (falling back to jstack). */
internal object ThreadDump {
    fun take(pid: Long, javaCommand: String, timeoutMillis: Long = 5_000): String? {
        val bin = Path.of(javaCommand).parent
        for (tool in listOf("jcmd", "jstack")) {
            val exe = bin?.resolve(tool)?.takeIf { Files.isExecutable(it) }?.toString() ?: tool
            val cmd = if (tool == "jcmd") listOf(exe, pid.toString(), "Thread.print") else listOf(exe, pid.toString())
            val p = runCatching { ProcessBuilder(cmd).redirectErrorStream(true).start() }.getOrNull() ?: continue
            val out = StringBuilder()
            val reader = Thread { runCatching { p.inputStream.bufferedReader().forEachLine { out.appendLine(it) } } }.apply { isDaemon = true; start() }
            if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly()
                return null
            }
            reader.join(1_000)
            if (p.exitValue() == 0 && out.isNotBlank()) return out.toString()
        }
        return null
    }
}
