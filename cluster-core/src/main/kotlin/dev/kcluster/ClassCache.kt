package dev.kcluster

import java.nio.file.Path

/**
 * Where the watcher keeps class-data archives for its workers, or [OFF].
 *
 * With a cache, the watcher gives workers an archive of the classes their classpath loads: dynamic AppCDS on JDK 17-24
 * (`-XX:SharedArchiveFile`), the AOT cache on JDK 25+ (`-XX:AOTCache`). The archive comes from one training run the watcher does in the
 * background after its first start (a worker started to READY, its listening sockets redirected to private ephemeral ports, sent one HTTP
 * `GET /` on each so that the request path is archived too, then stopped), so the first start is not delayed and later starts, respawns and
 * reloads are faster. Archives are keyed by the java binary and its version, the classpath contents (size and mtime of each entry) and the
 * JVM options that affect them; a stale archive is rebuilt, and one the JVM rejects is dropped with one warning (workers then start without
 * it).
 */
public class ClassCache
private constructor(
    /** The directory archives go in; null for [AUTO] (the per-user cache directory) and [OFF]. */
    public val directory: Path?,
    /** False for [OFF]. */
    public val enabled: Boolean,
) {
    override fun toString(): String = if (!enabled) "off" else directory?.toString() ?: "auto"

    override fun equals(other: Any?): Boolean = other is ClassCache && other.enabled == enabled && other.directory == directory

    override fun hashCode(): Int = (directory?.hashCode() ?: 0) * 31 + enabled.hashCode()

    public companion object {
        /** Archives under `$XDG_CACHE_HOME/kcluster/` (else `~/.cache/kcluster/`); the default. */
        @JvmField public val AUTO: ClassCache = ClassCache(null, true)

        /** No archives: nothing is created, workers start as plain JVMs. */
        @JvmField public val OFF: ClassCache = ClassCache(null, false)

        /** Archives under [dir], created when missing. */
        @JvmStatic public fun directory(dir: Path): ClassCache = ClassCache(dir, true)

        /**
         * `auto`, `off`, or a directory path, as the `--class-cache` option takes it.
         *
         * @throws IllegalArgumentException when [value] is blank.
         */
        @JvmStatic
        public fun parse(value: String): ClassCache =
            when (value.trim().lowercase()) {
                "" -> throw IllegalArgumentException("class cache must be auto, off or a directory, was blank")
                "auto" -> AUTO
                "off" -> OFF
                else -> directory(Path.of(value.trim()))
            }
    }
}
