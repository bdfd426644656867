package dev.kcluster.internal.ipc

import java.io.FileDescriptor

/** One received frame; [fd] is set exactly for the types that carry one. */
internal class Frame(val type: FrameType, val payload: ByteArray, val fd: FileDescriptor? = null) {
    override fun toString(): String = "$type(${payload.size} bytes${if (fd != null) ", fd" else ""})"
}
