package dev.kcluster.internal.ipc

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.attribute.PosixFilePermissions

/** Private (0700) directories for IPC sockets, under `$XDG_RUNTIME_DIR` when usable, else the temp dir. */
internal object PrivateDir {
    fun create(): Path {
        val base = System.getenv("XDG_RUNTIME_DIR")?.let(Paths::get)?.takeIf { Files.isDirectory(it) && Files.isWritable(it) }
            ?: Paths.get(System.getProperty("java.io.tmpdir"))
        val dir = Files.createTempDirectory(base, "kcluster-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        // createTempDirectory applies the umask to the attribute; set the mode explicitly.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"))
        return dir
    }

    fun delete(dir: Path) {
        runCatching {
            Files.walk(dir).use { s -> s.sorted(Comparator.reverseOrder()).forEach { Files.deleteIfExists(it) } }
        }
    }

    /** This process's uid, for the peer-credential check. */
    val uid: Long by lazy { (Files.getAttribute(Paths.get("/proc/self"), "unix:uid") as Int).toLong() }
}
