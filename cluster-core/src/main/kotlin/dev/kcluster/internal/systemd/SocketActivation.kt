package dev.kcluster.internal.systemd

import dev.kcluster.internal.net.JdkChannels
import java.net.InetSocketAddress
import java.net.StandardProtocolFamily
import java.nio.channels.ServerSocketChannel
import java.nio.file.Files
import java.nio.file.Path
import org.newsclub.net.unix.FileDescriptorCast
import org.slf4j.Logger

/**
 * systemd socket activation (`sd_listen_fds`): with `LISTEN_PID` equal to this process's pid and `LISTEN_FDS=n`, descriptors 3 … 3+n-1 are
 * listening sockets handed over by the service manager (names in `LISTEN_FDNAMES`). Each one that is a listening TCP socket becomes a
 * shared listener; anything else is skipped with one clear log line, and the cluster runs without it.
 */
internal object SocketActivation {
    const val FIRST_FD = 3
    val VARIABLES = listOf("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")

    /** One adopted socket. */
    class Activated(val fd: Int, val name: String?, val channel: ServerSocketChannel, val address: InetSocketAddress) {
        override fun toString(): String = "fd $fd (${address.hostString}:${address.port}${name?.let { ", name $it" } ?: ""})"
    }

    private val adopted = java.util.concurrent.ConcurrentHashMap.newKeySet<Int>()

    /** The sockets passed to this process; each one once per JVM (a second watcher in the same JVM does not get it again). */
    fun adopt(
        log: Logger,
        env: Map<String, String> = System.getenv(),
        pid: Long = ProcessHandle.current().pid(),
        firstFd: Int = FIRST_FD,
    ): List<Activated> {
        val listenPid = env["LISTEN_PID"] ?: return emptyList()
        if (listenPid.trim().toLongOrNull() != pid) {
            log.warn("socket activation skipped: LISTEN_PID={} is not this process (pid {})", listenPid, pid)
            return emptyList()
        }
        val count = env["LISTEN_FDS"]?.trim()?.toIntOrNull()
        if (count == null || count < 1 || count > 1024) {
            log.warn("socket activation skipped: LISTEN_FDS={} is not a number of descriptors", env["LISTEN_FDS"])
            return emptyList()
        }
        val names = env["LISTEN_FDNAMES"]?.split(':').orEmpty()
        return (0 until count).mapNotNull { i ->
            val fd = firstFd + i
            if (!adopted.add(fd)) return@mapNotNull null
            val name = names.getOrNull(i)?.takeIf { it.isNotEmpty() }
            val listener = listeningTcp(fd)
            if (listener == null) {
                log.warn("socket activation: fd {}{} is not an open listening TCP socket; ignored", fd, name?.let { " ($it)" } ?: "")
                return@mapNotNull null
            }
            try {
                val channel = JdkChannels.serverChannel(FileDescriptorCast.unsafeUsing(fd).fileDescriptor, listener)
                val address = channel.localAddress as InetSocketAddress
                Activated(fd, name, channel, address).also { log.info("socket activation: adopted {}", it) }
            } catch (e: Exception) {
                log.warn("socket activation: fd {} cannot be adopted: {}; ignored", fd, e.message ?: e.toString())
                null
            }
        }
    }

    /** The protocol family of [fd] when it is a listening TCP socket of this process, else null (from /proc). */
    private fun listeningTcp(fd: Int): StandardProtocolFamily? {
        val link = runCatching { Files.readSymbolicLink(Path.of("/proc/self/fd/$fd")).toString() }.getOrNull() ?: return null
        val inode = Regex("""socket:\[(\d+)]""").matchEntire(link)?.groupValues?.get(1) ?: return null
        for ((file, family) in listOf("/proc/net/tcp" to StandardProtocolFamily.INET, "/proc/net/tcp6" to StandardProtocolFamily.INET6)) {
            val lines = runCatching { Files.readAllLines(Path.of(file)) }.getOrNull() ?: continue
            for (line in lines.drop(1)) {
                val cols = line.trim().split(Regex("\\s+"))
                // sl local_address rem_address st … inode: st 0A is LISTEN, the inode is column 9.
                if (cols.size > 9 && cols[9] == inode) return if (cols[3] == "0A") family else null
            }
        }
        return null
    }
}
