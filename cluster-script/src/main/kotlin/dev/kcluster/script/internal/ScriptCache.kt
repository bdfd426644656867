package dev.kcluster.script.internal

import java.io.File
import java.nio.file.AtomicMoveNotSupportedException
import java.nio.file.FileAlreadyExistsException
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermissions
import java.security.MessageDigest
import java.util.Properties

/**
 * Compiled scripts by key, under [root] (`$XDG_CACHE_HOME/kcluster/scripts`, else `~/.cache/kcluster/scripts`). An entry is written to a
 * temporary directory and renamed into place, so a reader sees it whole or not at all, and two watchers compiling the same script at once
 * both end up with one entry.
 */
internal class ScriptCache(val root: Path) {
    /**
     * The key of a script: its file name (the class is named after it), its text, the Kotlin compiler version, this definition's version,
     * and the compile classpath (names, sizes, times: a rebuilt kcluster compiles again).
     */
    fun key(fileName: String, text: String, kotlinVersion: String, classpath: List<Path>): String {
        val digest = MessageDigest.getInstance("SHA-256")
        fun add(s: String) = digest.update((s + "\u0000").toByteArray())
        add("kcluster-script/$DEFINITION_VERSION")
        add(kotlinVersion)
        add(fileName)
        add(text)
        for (entry in classpath) {
            val f = entry.toFile()
            add("${f.absolutePath}:${f.length()}:${f.lastModified()}")
        }
        return digest.digest().joinToString("") { "%02x".format(it) }.take(KEY_CHARS)
    }

    /** The usable entry for [key], or null. */
    fun lookup(key: String): CompiledScriptDir? {
        val dir = root.resolve(key)
        if (!Files.isRegularFile(dir.resolve(CompiledScriptDir.PROPERTIES))) return null
        return runCatching { CompiledScriptDir(dir) }.getOrNull()?.takeIf { it.isUsable() }
    }

    /** Stores [classes] (path in the output to bytes) of [className] and its [dependencies] under [key]. */
    fun store(key: String, className: String, classes: Map<String, ByteArray>, dependencies: List<Path>): CompiledScriptDir {
        ensureRoot()
        val tmp = Files.createTempDirectory(root, "$key.tmp")
        try {
            for ((name, bytes) in classes) {
                val out = tmp.resolve(CompiledScriptDir.CLASSES).resolve(name).normalize()
                require(out.startsWith(tmp)) { "compiler output $name escapes the cache entry" }
                Files.createDirectories(out.parent)
                Files.write(out, bytes)
            }
            val props = Properties()
            props.setProperty(CompiledScriptDir.CLASS, className)
            props.setProperty(
                CompiledScriptDir.DEPENDENCIES,
                dependencies.joinToString(File.pathSeparator) { it.toAbsolutePath().toString() },
            )
            Files.newBufferedWriter(tmp.resolve(CompiledScriptDir.PROPERTIES)).use { props.store(it, "kcluster compiled script") }
            val dir = root.resolve(key)
            try {
                if (Files.exists(dir)) deleteTree(dir) // an unusable entry (its jars are gone)
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE)
            } catch (e: FileAlreadyExistsException) {
                deleteTree(tmp) // another watcher stored it first
            } catch (e: java.nio.file.DirectoryNotEmptyException) {
                deleteTree(tmp)
            } catch (e: AtomicMoveNotSupportedException) {
                Files.move(tmp, dir)
            }
            return CompiledScriptDir(dir)
        } catch (e: Exception) {
            deleteTree(tmp)
            throw e
        }
    }

    private fun ensureRoot() {
        if (Files.isDirectory(root)) return
        Files.createDirectories(root.parent)
        runCatching { Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))) }
            .onFailure { if (!Files.isDirectory(root)) throw it }
    }

    companion object {
        /** Bumped when the layout of an entry or the script definition changes. */
        const val DEFINITION_VERSION = 1
        private const val KEY_CHARS = 32

        /** `$XDG_CACHE_HOME/kcluster/scripts`, else `~/.cache/kcluster/scripts`. */
        fun defaultRoot(env: Map<String, String> = System.getenv(), home: String = System.getProperty("user.home")): Path {
            val base =
                env["XDG_CACHE_HOME"]?.takeIf { it.isNotBlank() && Path.of(it).isAbsolute }?.let { Path.of(it) } ?: Path.of(home, ".cache")
            return base.resolve("kcluster").resolve("scripts")
        }

        fun deleteTree(path: Path) {
            if (!Files.exists(path)) return
            Files.walk(path).use { s -> s.sorted(Comparator.reverseOrder()).forEach { runCatching { Files.delete(it) } } }
        }
    }
}
