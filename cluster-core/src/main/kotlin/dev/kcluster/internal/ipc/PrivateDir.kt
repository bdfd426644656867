package dev.kcluster.internal.ipc

import java.nio.file.Files
import java.nio.file.LinkOption
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.attribute.PosixFilePermissions
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel

/**
 * Private (0700) directories for IPC sockets, under `$XDG_RUNTIME_DIR` when usable, else the temp dir. Each holds an `owner` file, `<pid>
 * <start time>` (the start time from `/proc/<pid>/stat`, so a reused pid is not mistaken for the owner), and the next [create] removes the
 * directories of owners that are gone.
 */
internal object PrivateDir {
    const val OWNER_FILE = "owner"

    fun create(): Path {
        val base =
            System.getenv("XDG_RUNTIME_DIR")?.let(Paths::get)?.takeIf { Files.isDirectory(it) && Files.isWritable(it) }
                ?: Paths.get(System.getProperty("java.io.tmpdir"))
        sweepStale(base)
        val dir =
            Files.createTempDirectory(base, "kcluster-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        // createTempDirectory applies the umask to the attribute; set the mode explicitly.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"))
        val me = ProcessHandle.current().pid()
        startTime(me)?.let { Files.writeString(dir.resolve(OWNER_FILE), "$me $it\n") }
        return dir
    }

    /**
     * Removes directories left by watchers that died without cleaning up (SIGKILL), all of this uid: those whose `owner` is dead (or its
     * pid now belongs to a younger process) at once, whatever their age; a live owner's directory is never touched. A directory without a
     * readable owner file (an older kcluster, or one being created right now) goes only when it is older than [minAgeMillis] and its socket
     * no longer accepts connections (or it never got one).
     */
    fun sweepStale(base: Path, minAgeMillis: Long = 60_000) {
        val cutoff = System.currentTimeMillis() - minAgeMillis
        val candidates = runCatching { Files.newDirectoryStream(base, "kcluster-*").use { it.toList() } }.getOrDefault(emptyList())
        for (dir in candidates) {
            runCatching {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return@runCatching
                if ((Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS) as Int).toLong() != uid) return@runCatching
                when (ownerAlive(dir)) {
                    true -> return@runCatching
                    false -> {
                        delete(dir)
                        return@runCatching
                    }
                    null -> {}
                }
                if (Files.getLastModifiedTime(dir).toMillis() > cutoff) return@runCatching
                val socket = dir.resolve("ipc.sock")
                val live =
                    Files.exists(socket, LinkOption.NOFOLLOW_LINKS) &&
                        runCatching { AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(socket.toFile())).close() }.isSuccess
                if (!live) delete(dir)
            }
        }
    }

    /** Whether the process recorded in [dir]'s owner file still runs; null without a well-formed owner file. */
    fun ownerAlive(dir: Path): Boolean? {
        val file = dir.resolve(OWNER_FILE)
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) return null
        val fields = runCatching { Files.readString(file) }.getOrNull()?.trim()?.split(' ') ?: return null
        val pid = fields.getOrNull(0)?.toLongOrNull() ?: return null
        val start = fields.getOrNull(1)?.toLongOrNull() ?: return null
        return startTime(pid) == start
    }

    /**
     * The start time of [pid] (field 22 of `/proc/<pid>/stat`, clock ticks since boot), or null when no such process runs (a zombie counts
     * as gone).
     */
    fun startTime(pid: Long): Long? {
        val stat = runCatching { Files.readString(Paths.get("/proc/$pid/stat")) }.getOrNull() ?: return null
        // The command name (field 2) is in parentheses and may contain spaces: count from its end.
        val rest = stat.substringAfterLast(") ").split(' ')
        if (rest.firstOrNull() == "Z") return null
        return rest.getOrNull(22 - 3)?.toLongOrNull()
    }

    fun delete(dir: Path) {
        runCatching { Files.walk(dir).use { s -> s.sorted(Comparator.reverseOrder()).forEach { Files.deleteIfExists(it) } } }
    }

    /** This process's uid, for the peer-credential check. */
    val uid: Long by lazy { (Files.getAttribute(Paths.get("/proc/self"), "unix:uid") as Int).toLong() }
}
