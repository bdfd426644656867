package dev.kcluster.internal

import java.nio.file.Files
import java.nio.file.Path

/** The value of [key] in `/proc/<pid>/status` ([pid] `self` for this process), trimmed; null when it cannot be read (gone, not Linux). */
internal fun procStatus(pid: String, key: String): String? =
    runCatching { Files.readAllLines(Path.of("/proc/$pid/status")).firstOrNull { it.startsWith("$key:") }?.substringAfter(':')?.trim() }
        .getOrNull()
