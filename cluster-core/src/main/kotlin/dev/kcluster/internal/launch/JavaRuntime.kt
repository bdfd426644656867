package dev.kcluster.internal.launch

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit

/**
 * The JDK behind a `java` command: its real path and version, read from the `release` file beside its `bin/` (no process start), else from
 * `java -version` once. Results are cached per command.
 */
internal class JavaRuntime(val command: String, val path: Path, val version: String) {
    /** The feature release: 17 for "17.0.15", 25 for "25.0.3+9", 8 for "1.8.0_402". */
    val feature: Int = version.removePrefix("1.").takeWhile { it.isDigit() }.toIntOrNull() ?: 0

    override fun toString(): String = "$path ($version)"

    companion object {
        private val known = ConcurrentHashMap<String, JavaRuntime>()

        /** @throws IllegalArgumentException when [command] cannot be found or asked its version. */
        fun of(command: String): JavaRuntime = known.getOrPut(command) { detect(command) }

        private fun detect(command: String): JavaRuntime {
            val path = resolve(command) ?: throw IllegalArgumentException("java command not found: $command")
            val version =
                fromRelease(path)
                    ?: fromVersionOutput(path)
                    ?: throw IllegalArgumentException("cannot tell the version of $path (no release file, no parsable 'java -version')")
            return JavaRuntime(command, path, version)
        }

        private fun resolve(command: String): Path? {
            val candidate =
                if (command.contains(File.separatorChar)) Path.of(command)
                else
                    System.getenv("PATH")
                        .orEmpty()
                        .split(File.pathSeparator)
                        .filter { it.isNotEmpty() }
                        .map { Path.of(it, command) }
                        .firstOrNull { Files.isExecutable(it) } ?: return null
            return runCatching { candidate.toRealPath() }.getOrNull()?.takeIf { Files.isExecutable(it) }
        }

        /** `JAVA_RUNTIME_VERSION="17.0.15+6-Debian-1deb12u1"` (else `JAVA_VERSION`) in `<home>/release`. */
        private fun fromRelease(java: Path): String? {
            val release = java.parent?.parent?.resolve("release") ?: return null
            val lines = runCatching { Files.readAllLines(release) }.getOrNull() ?: return null
            fun value(name: String) =
                lines.firstOrNull { it.startsWith("$name=") }?.substringAfter('=')?.trim('"')?.takeIf { it.isNotBlank() }
            return value("JAVA_RUNTIME_VERSION") ?: value("JAVA_VERSION")
        }

        private fun fromVersionOutput(java: Path): String? =
            runCatching {
                    val p = ProcessBuilder(java.toString(), "-version").redirectErrorStream(true).start()
                    val out = p.inputStream.bufferedReader().readText()
                    if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly()
                    Regex("version \"([^\"]+)\"").find(out)?.groupValues?.get(1)
                }
                .getOrNull()
    }
}
