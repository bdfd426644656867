package dev.kcluster.internal.net

import java.io.Closeable
import java.io.FileDescriptor
import java.io.FileInputStream

internal fun Closeable.closeQuietly() {
    try {
        close()
    } catch (_: Exception) {}
}

/** Closes a raw descriptor that was received but will not be used. */
internal fun FileDescriptor.closeQuietly() {
    if (valid()) FileInputStream(this).closeQuietly()
}
