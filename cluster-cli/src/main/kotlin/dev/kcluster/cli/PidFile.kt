package dev.kcluster.cli

import java.io.IOException
import java.nio.file.FileAlreadyExistsException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.StandardOpenOption

/** The cluster cannot take (or find) its pid file; the message says what to do. */
internal class PidFileException(message: String) : Exception(message)

/**
 * A watcher's pid file and, beside it, its control socket (`<pid file>.sock`). [acquire] creates the file exclusively with this process's
 * pid; a stale file (its process is gone) is replaced, a live one refuses. [release] removes it only while it still names this process.
 */
internal class PidFile(path: Path) {
    val path: Path = path.toAbsolutePath().normalize()
    val socketPath: Path = socketPathOf(this.path)
    private val me = ProcessHandle.current().pid()

    /** @throws PidFileException when another live process holds the file or it cannot be written. */
    fun acquire(warn: (String) -> Unit) {
        repeat(3) {
            try {
                Files.write(path, "$me\n".toByteArray(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                return
            } catch (e: FileAlreadyExistsException) {
                val text = runCatching { Files.readString(path).trim() }.getOrDefault("")
                val pid = text.toLongOrNull()
                if (pid != null && pid != me && isAlive(pid)) {
                    throw PidFileException(
                        "a cluster is already running with pid $pid (pid file $path); " +
                            "stop it with `cluster stop -p $path` or use another --pid-file"
                    )
                }
                warn("replacing stale pid file $path (process ${text.ifEmpty { "?" }} is not running)")
                try {
                    Files.deleteIfExists(path)
                } catch (d: IOException) {
                    throw PidFileException("cannot replace stale pid file $path: ${d.message ?: d}")
                }
            } catch (e: IOException) {
                throw PidFileException("cannot write pid file $path: ${e.message ?: e} (choose a writable --pid-file)")
            }
        }
        throw PidFileException("cannot create pid file $path: another process keeps recreating it")
    }

    /** Removes the pid file if it still holds this process's pid. */
    fun release() {
        runCatching { if (read(path) == me) Files.deleteIfExists(path) }
    }

    companion object {
        fun socketPathOf(pidFile: Path): Path = Paths.get("$pidFile.sock")

        /** The pid in [path], or null when the file is missing or holds no pid. */
        fun read(path: Path): Long? = runCatching { Files.readString(path).trim().toLongOrNull() }.getOrNull()

        fun isAlive(pid: Long): Boolean = ProcessHandle.of(pid).map { it.isAlive }.orElse(false)
    }
}
