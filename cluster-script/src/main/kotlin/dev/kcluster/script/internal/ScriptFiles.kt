package dev.kcluster.script.internal

import java.nio.file.Files
import java.nio.file.Path
import kotlin.streams.asSequence
import kotlinx.coroutines.delay

/**
 * Notices changes under [paths] (files, or directories walked recursively) by polling their sizes and modification times every
 * [pollMillis]; a change counts once the files have stayed the same for one more poll, so an editor's save (write, rename) yields one
 * event.
 */
internal class ScriptFiles(private val paths: List<Path>, private val pollMillis: Long = 250) {
    private var last = snapshot()

    /** Suspends until something under [paths] changed (and settled) since the last call; returns the changed paths. */
    suspend fun awaitChange(): Set<Path> {
        while (true) {
            delay(pollMillis)
            var now = snapshot()
            if (now == last) continue
            while (true) {
                delay(pollMillis)
                val again = snapshot()
                if (again == now) break
                now = again
            }
            val changed = (now.keys + last.keys).filter { now[it] != last[it] }.toSet()
            last = now
            return changed
        }
    }

    private fun snapshot(): Map<Path, Pair<Long, Long>> {
        val out = HashMap<Path, Pair<Long, Long>>()
        for (p in paths) {
            val files =
                if (Files.isDirectory(p))
                    runCatching { Files.walk(p).use { s -> s.asSequence().filter { Files.isRegularFile(it) }.toList() } }
                        .getOrDefault(emptyList())
                else listOf(p)
            for (f in files) out[f] = runCatching { Files.size(f) to Files.getLastModifiedTime(f).toMillis() }.getOrDefault(-1L to -1L)
        }
        return out
    }
}
