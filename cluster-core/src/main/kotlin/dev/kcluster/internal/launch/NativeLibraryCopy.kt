package dev.kcluster.internal.launch

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermission
import java.nio.file.attribute.PosixFilePermissions
import java.util.Properties
import java.util.jar.JarEntry
import java.util.jar.JarFile
import java.util.zip.CRC32
import org.slf4j.LoggerFactory

/**
 * junixsocket's JNI library, copied once out of the workers' classpath into the class cache's directory, so that every worker loads it from
 * there (`-Dorg.newsclub.net.unix.library.override`) instead of searching its classpath and copying it to a temporary file on each start:
 * about 20 ms of every worker start on this machine.
 *
 * The copy is the one that matches the workers' own junixsocket classes: the version comes from the first jar on the classpath that holds
 * `NativeUnixSocket`, the library from the first jar that holds that version's library for this OS and CPU. Anything unusual (no such jar,
 * a directory on the classpath, another OS, an unreadable jar) gives no option, and workers load the library the usual way.
 */
internal object NativeLibraryCopy {
    private val log = LoggerFactory.getLogger(NativeLibraryCopy::class.java)
    const val PROPERTY = "org.newsclub.net.unix.library.override"
    private const val CLASS = "org/newsclub/net/unix/NativeUnixSocket.class"
    private const val POM = "META-INF/maven/com.kohlschutter.junixsocket/junixsocket-common/pom.properties"

    /**
     * The `-D` option for workers on [classpath], remembered in [marker] (a file beside the class-data archive, whose name carries the
     * classpath's key): read from it when it names a library that is still there, else null now and [onFound] later, once a background
     * thread has found and copied the library into [dir] (opening the jars would delay the first worker's start).
     */
    fun option(classpath: String, dir: Path, marker: Path, onFound: (String) -> Unit): String? {
        val known = runCatching { Files.readString(marker).trim() }.getOrNull()
        if (known != null && known.isNotEmpty() && Files.isRegularFile(Path.of(known))) return "-D$PROPERTY=$known"
        Thread(
                {
                    try {
                        val path = copyFromClasspath(classpath, dir)
                        Files.writeString(marker, path?.toString().orEmpty())
                        if (path != null) onFound("-D$PROPERTY=$path")
                    } catch (e: Exception) {
                        log.debug("junixsocket library not copied: {}", e.toString())
                    }
                },
                "kcluster-native-copy",
            )
            .apply { isDaemon = true }
            .start()
        return null
    }

    /** Copies the library that matches the classpath's junixsocket classes into [dir] (see [copy]); null when there is none. */
    private fun copyFromClasspath(classpath: String, dir: Path): Path? {
        if (System.getProperty("os.name") != "Linux") return null
        val arch =
            when (System.getProperty("os.arch")) {
                "amd64",
                "x86_64" -> "amd64"
                "aarch64" -> "aarch64"
                else -> return null
            }
        val jars = classpath.split(File.pathSeparator).filter { it.isNotEmpty() }.map { Path.of(it) }
        if (jars.any { !it.toString().endsWith(".jar") }) return null // a directory could hold other classes first
        var version: String? = null
        for (jar in jars) {
            if (!Files.isRegularFile(jar)) continue
            JarFile(jar.toFile()).use { f ->
                if (version == null && f.getEntry(CLASS) != null) {
                    val pom = f.getEntry(POM) ?: return null
                    version = f.getInputStream(pom).use { Properties().apply { load(it) } }.getProperty("version") ?: return null
                }
                val v = version ?: return@use
                val entry = "lib/$arch-Linux-clang/jni/libjunixsocket-native-$v.so"
                f.getJarEntry(entry)?.let {
                    return copy(f, it, dir)
                }
            }
        }
        return null
    }

    /**
     * Copies [e] of the open jar [f] to [dir]/native/, named by its version and CRC, unless that file is already there; returns its path.
     */
    private fun copy(f: JarFile, e: JarEntry, dir: Path): Path {
        val native = dir.resolve("native")
        if (!Files.isDirectory(native)) {
            Files.createDirectories(native)
            Files.setPosixFilePermissions(native, PosixFilePermissions.fromString("rwx------"))
        }
        // A library is code this user's workers run: only from a directory no one else can write to.
        val perms = Files.getPosixFilePermissions(native)
        check(PosixFilePermission.GROUP_WRITE !in perms && PosixFilePermission.OTHERS_WRITE !in perms) { "$native is writable by others" }
        check(Files.getOwner(native).name == System.getProperty("user.name")) { "$native belongs to another user" }
        val target = native.resolve("${e.name.substringAfterLast('/').removeSuffix(".so")}-${"%08x".format(e.crc)}.so")
        if (Files.isRegularFile(target) && Files.size(target) == e.size) return target
        val tmp = Files.createTempFile(native, "copy", ".tmp")
        try {
            f.getInputStream(e).use { Files.copy(it, tmp, StandardCopyOption.REPLACE_EXISTING) }
            val crc = CRC32().apply { update(Files.readAllBytes(tmp)) }.value
            check(crc == e.crc) { "CRC mismatch copying ${e.name} from ${f.name}" }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
        } finally {
            Files.deleteIfExists(tmp)
        }
        return target
    }
}
