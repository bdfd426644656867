package dev.kcluster.internal.launch

import dev.kcluster.ClassCache
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermissions
import java.security.MessageDigest
import java.util.concurrent.TimeUnit
import org.slf4j.LoggerFactory

/**
 * One class-data archive for one worker setup: where it lives (its name carries the key) and how a JVM creates, uses and validates it.
 * Dynamic AppCDS on JDK 17-24, the AOT cache on JDK 25+.
 *
 * An archive is used only once validated: a JVM run with `-Xshare:on` / `-XX:AOTMode=on` and the workers' options must start with it (a
 * truncated dynamic archive crashes JDK 17 with SIGBUS under the default `-Xshare:auto`, and a rejected one is ignored silently). A passed
 * validation is remembered in `<archive>.ok` (size and mtime), so later watchers skip it; a rejected archive is deleted with one warning,
 * and the next training run rebuilds it.
 */
internal class ArchiveCache
private constructor(
    val archive: Path,
    private val java: JavaRuntime,
    private val keyOptions: List<String>,
    private val classpath: String,
    private val mapping: List<String>,
) {
    val aot: Boolean = java.feature >= 25
    private val marker: Path = archive.resolveSibling(archive.fileName.toString() + ".ok")
    @Volatile private var checked: Pair<String, Boolean>? = null
    @Volatile private var rejected = false

    /** Options that make a JVM write this archive (to [output]) when it exits. */
    fun createOptions(output: Path): List<String> =
        if (aot) listOf("-XX:AOTCacheOutput=$output") else listOf("-XX:ArchiveClassesAtExit=$output")

    /** Options that make a worker use the archive when it is there and valid; else none. */
    fun useOptions(): List<String> = if (usable()) useFlags() else emptyList()

    private fun useFlags() = (if (aot) listOf("-XX:AOTCache=$archive") else listOf("-XX:SharedArchiveFile=$archive")) + mapping

    /** True when no valid archive exists yet (and none was rejected by this watcher twice). */
    fun needsTraining(): Boolean = !usable()

    /** Whether the archive exists and its JVM accepts it; validates it once per file version. */
    @Synchronized
    fun usable(): Boolean {
        val stamp = stamp(archive) ?: return false
        checked?.let { (s, ok) -> if (s == stamp) return ok }
        val ok = stamp == runCatching { Files.readString(marker) }.getOrNull() || validate(stamp)
        checked = stamp to ok
        return ok
    }

    /** Moves a freshly written archive into place, if its JVM accepts it. */
    @Synchronized
    fun install(output: Path): Boolean {
        Files.move(output, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
        Files.deleteIfExists(marker)
        checked = null
        return usable()
    }

    private fun validate(stamp: String): Boolean {
        val errorFile = archive.resolveSibling("hs_err_validate_${ProcessHandle.current().pid()}.log")
        val cmd =
            listOf(java.path.toString()) +
                keyOptions +
                LAUNCH_OPTIONS +
                useFlags() +
                (if (aot) listOf("-XX:AOTMode=on") else listOf("-Xshare:on")) +
                listOf("-XX:ErrorFile=$errorFile", "-XX:-CreateCoredumpOnCrash", "-cp", classpath, "-version")
        val reason =
            try {
                val p = ProcessBuilder(cmd).redirectErrorStream(true).start()
                val out = p.inputStream.bufferedReader().readLines()
                if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly()
                val code = p.exitValue()
                val error = out.firstOrNull { it.contains("[error") || it.contains("error has occurred") }
                val crash = Regex("\\b(SIG[A-Z]+)\\b").find(out.firstOrNull { it.startsWith("#") && it.contains("SIG") }.orEmpty())?.value
                when {
                    crash != null -> "a JVM crashed mapping it ($crash)"
                    code == 0 && error == null -> null
                    else ->
                        (out.firstOrNull { it.contains("[warning") && (it.contains("[cds") || it.contains("[aot")) }
                                ?: error
                                ?: out.lastOrNull { it.isNotBlank() })
                            .orEmpty()
                            .trim() + " (exit code $code)"
                }
            } catch (e: Exception) {
                "cannot run ${java.path}: ${e.message}"
            } finally {
                Files.deleteIfExists(errorFile)
            }
        if (reason == null) {
            runCatching { Files.writeString(marker, stamp) }
            return true
        }
        if (!rejected)
            log.warn("class cache: {} was rejected by {}: {}; workers start without it until it is rebuilt", archive, java, reason)
        rejected = true
        Files.deleteIfExists(archive)
        Files.deleteIfExists(marker)
        return false
    }

    companion object {
        private val log = LoggerFactory.getLogger("dev.kcluster.ClassCache")

        /** Options every worker gets from the launcher; they are part of what an archive must match. */
        val LAUNCH_OPTIONS: List<String> = dev.kcluster.internal.net.JdkChannels.OPENS_ARGS

        /**
         * The archive for these workers ([userOptions]: every JVM option the user gives them, the environment's too), or null (logged once
         * at info) when the cache is off or cannot work: JDK older than 17, or a classpath with a non-empty directory or a wildcard.
         */
        fun of(
            cache: ClassCache,
            java: JavaRuntime,
            mainClass: String,
            classpath: String,
            jvmOptions: List<String>,
            userOptions: List<String>,
        ): ArchiveCache? {
            if (!cache.enabled) return null
            if (java.feature < 17) return off("JDK ${java.version} is older than 17")
            val entries = classpath.split(File.pathSeparator).filter { it.isNotEmpty() }
            val lines = mutableListOf("kcluster-class-cache 1", java.path.toString(), java.version)
            for (entry in entries) {
                val p = Path.of(entry)
                when {
                    entry.endsWith("*") -> return off("the classpath has a wildcard entry ($entry)")
                    Files.isDirectory(p) ->
                        if (Files.list(p).use { it.findAny().isPresent })
                            return off("the classpath has a directory ($entry); archives need jars")
                    else -> lines += "$entry ${stamp(p) ?: "missing"}"
                }
            }
            val keyOptions = jvmOptions.filter(::matters)
            lines += keyOptions
            lines += mainClass
            val hash =
                MessageDigest.getInstance("SHA-256")
                    .digest(lines.joinToString("\n").toByteArray())
                    .joinToString("") { "%02x".format(it) }
                    .take(20)
            val dir = directory(cache)
            val name = mainClass.substringAfterLast('.').filter { it.isLetterOrDigit() }.take(40).ifEmpty { "worker" }
            return ArchiveCache(
                dir.resolve("$name-jdk${java.feature}-$hash.${if (java.feature >= 25) "aot" else "jsa"}"),
                java,
                keyOptions,
                classpath,
                // Mapped where it was dumped (ArchiveRelocationMode=0, the JDK's default before JDK 20), not copied and relocated to a
                // random address in every JVM: its read-only pages stay shared between the workers (5-6 MiB less PSS each with 2), and a
                // start skips ~8 ms of relocation. The user's -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=1 brings back the
                // JDK's default (ASLR for the archive): a user value wins.
                if (userOptions.any { JvmDefaults.settingOf(it) == "ArchiveRelocationMode" }) emptyList()
                else listOf("-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0"),
            )
        }

        /** Whether an option can change what an archive holds or whether a JVM accepts it. */
        private fun matters(option: String): Boolean =
            !option.startsWith("-D") &&
                !option.startsWith("-Xlog") &&
                !option.startsWith("-verbose") &&
                JvmDefaults.settingOf(option) !in setOf("Xss", "ThreadStackSize", "MaxRAMPercentage", "Xms", "InitialHeapSize", "ErrorFile")

        private fun off(why: String): ArchiveCache? {
            log.info("class cache off: {}", why)
            return null
        }

        private fun directory(cache: ClassCache): Path {
            val dir =
                cache.directory
                    ?: (System.getenv("XDG_CACHE_HOME")?.takeIf { it.startsWith("/") }?.let(Path::of)
                            ?: Path.of(System.getProperty("user.home"), ".cache"))
                        .resolve("kcluster")
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir)
                runCatching { Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------")) }
            }
            return dir
        }

        /** "size mtime" of a file, or null when it is missing or empty. */
        fun stamp(p: Path): String? =
            runCatching {
                    val size = Files.size(p)
                    if (size == 0L) null else "$size ${Files.getLastModifiedTime(p).toMillis()}"
                }
                .getOrNull()
    }
}
