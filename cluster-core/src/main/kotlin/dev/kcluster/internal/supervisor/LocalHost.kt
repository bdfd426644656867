package dev.kcluster.internal.supervisor

import java.net.InetAddress

/** This machine's host name and this JVM's pid, looked up once (a group member's id is `<host>-<pid>`). */
internal object LocalHost {
    val name: String by lazy { runCatching { InetAddress.getLocalHost().hostName }.getOrDefault("localhost") }
    val pid: Long = ProcessHandle.current().pid()
}
