package dev.kcluster.cli

import java.io.Closeable
import java.io.IOException
import java.nio.file.ClosedWatchServiceException
import java.nio.file.FileSystems
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardWatchEventKinds.ENTRY_CREATE
import java.nio.file.StandardWatchEventKinds.ENTRY_DELETE
import java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY
import java.nio.file.StandardWatchEventKinds.OVERFLOW
import java.nio.file.WatchKey
import java.nio.file.WatchService
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory

/**
 * Watches [roots] (directories recursively, including ones created later; or single files) and calls [onChange] once changes have been
 * quiet for [debounceMillis]. Changes that arrive while [onChange] runs lead to one more call afterwards. Paths in [ignore] (e.g. the log
 * file) never count.
 */
internal class FileWatcher(
    roots: List<Path>,
    private val ignore: Set<Path>,
    private val debounceMillis: Long,
    scope: CoroutineScope,
    private val onChange: suspend (Path) -> Unit,
) : Closeable {
    private val service: WatchService = FileSystems.getDefault().newWatchService()
    private val dirs = ConcurrentHashMap<WatchKey, Path>()
    private val files = mutableSetOf<Path>()
    private val wholeDirs = mutableSetOf<Path>()
    private val changes = Channel<Path>(Channel.CONFLATED)
    private val consumer: Job

    init {
        for (root in roots.map { it.toAbsolutePath().normalize() }) {
            if (Files.isDirectory(root)) {
                wholeDirs.add(root)
                registerTree(root)
            } else {
                files.add(root)
                register(root.parent)
            }
        }
        Thread(::pollLoop, "cluster-watch").apply {
            isDaemon = true
            start()
        }
        consumer =
            scope.launch {
                for (first in changes) {
                    var last = first
                    while (true) last = withTimeoutOrNull(debounceMillis) { changes.receive() } ?: break
                    log.info("change under a watched path ({}): rolling restart", last)
                    onChange(last)
                }
            }
    }

    private fun register(dir: Path) {
        try {
            dirs[dir.register(service, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE)] = dir
        } catch (e: IOException) {
            log.warn("cannot watch {}: {}", dir, e.toString())
        }
    }

    private fun registerTree(root: Path) {
        try {
            Files.walk(root).use { s -> s.filter { Files.isDirectory(it) }.forEach(::register) }
        } catch (e: IOException) {
            log.warn("cannot watch {}: {}", root, e.toString())
        }
    }

    private fun counts(path: Path): Boolean {
        if (path in ignore) return false
        return wholeDirs.any { path.startsWith(it) } || path in files
    }

    private fun pollLoop() {
        while (true) {
            val key =
                try {
                    service.take()
                } catch (e: ClosedWatchServiceException) {
                    return
                } catch (e: InterruptedException) {
                    return
                }
            val dir = dirs[key]
            for (event in key.pollEvents()) {
                if (dir == null) continue
                if (event.kind() == OVERFLOW) {
                    changes.trySend(dir)
                    continue
                }
                val path = dir.resolve(event.context() as Path)
                if (event.kind() == ENTRY_CREATE && Files.isDirectory(path) && wholeDirs.any { path.startsWith(it) }) registerTree(path)
                if (counts(path)) changes.trySend(path)
            }
            if (!key.reset()) dirs.remove(key)
        }
    }

    override fun close() {
        runCatching { service.close() }
        consumer.cancel()
        changes.close()
    }

    private companion object {
        val log = LoggerFactory.getLogger("dev.kcluster.cli.watch")
    }
}
