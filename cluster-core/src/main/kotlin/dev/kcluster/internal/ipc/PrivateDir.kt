package dev.kcluster.internal.ipc

import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel
import java.nio.file.Files
import java.nio.file.LinkOption
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.attribute.PosixFilePermissions

/** Private (0700) directories for IPC sockets, under `$XDG_RUNTIME_DIR` when usable, else the temp dir. */
internal object PrivateDir {
    fun create(): Path {
        val base = System.getenv("XDG_RUNTIME_DIR")?.let(Paths::get)?.takeIf { Files.isDirectory(it) && Files.isWritable(it) }
            ?: Paths.get(System.getProperty("java.io.tmpdir"))
        sweepStale(base)
        val dir = Files.createTempDirectory(base, "kcluster-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        // createTempDirectory applies the umask to the attribute; set the mode explicitly.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"))
        return dir
    }

    /**
     * Removes directories left by watchers that died without cleaning up (SIGKILL): ours, older than
     * a minute, and whose socket no longer accepts connections (or that never got one).
     */
    fun sweepStale(base: Path, minAgeMillis: Long = 60_000) {
        val cutoff = System.currentTimeMillis() - minAgeMillis
        val candidates = runCatching { Files.newDirectoryStream(base, "kcluster-*").use { it.toList() } }.getOrDefault(emptyList())
        for (dir in candidates) {
            runCatching {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return@runCatching
                if ((Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS) as Int).toLong() != uid) return@runCatching
                if (Files.getLastModifiedTime(dir).toMillis() > cutoff) return@runCatching
                val socket = dir.resolve("ipc.sock")
                val live = Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && runCatching {
                    AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(socket.toFile())).close()
                }.isSuccess
                if (!live) delete(dir)
            }
        }
    }

    fun delete(dir: Path) {
        runCatching {
            Files.walk(dir).use { s -> s.sorted(Comparator.reverseOrder()).forEach { Files.deleteIfExists(it) } }
        }
    }

    /** This process's uid, for the peer-credential check. */
    val uid: Long by lazy { (Files.getAttribute(Paths.get("/proc/self"), "unix:uid") as Int).toLong() }
}
