package dev.kcluster.cli.systemd

import java.io.Closeable
import java.io.IOException
import java.nio.ByteBuffer
import java.nio.file.Path
import org.newsclub.net.unix.AFUNIXDatagramChannel
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.slf4j.LoggerFactory

/**
 * The systemd notify socket named by `NOTIFY_SOCKET` (sd_notify(3)): each [send] is one datagram of newline-separated `KEY=value`
 * assignments. Best effort: a failed send is logged once and the cluster runs on.
 */
internal class NotifySocket(val address: AFUNIXSocketAddress, private val name: String = address.toString()) : Closeable {
    private val channel = AFUNIXDatagramChannel.open()
    @Volatile private var warned = false

    /** Sends [state] (e.g. "READY=1\nSTATUS=…"); false when it could not be sent. */
    fun send(state: String): Boolean =
        try {
            channel.send(ByteBuffer.wrap(state.toByteArray()), address)
            true
        } catch (e: IOException) {
            if (!warned) {
                warned = true
                log.warn("cannot notify systemd at {}: {}; notifications are skipped", name, e.message ?: e.toString())
            }
            false
        }

    override fun close(): Unit = channel.close()

    companion object {
        private val log = LoggerFactory.getLogger("dev.kcluster.cli")

        /** `/path` (a filesystem socket) or `@name` (the abstract namespace). */
        fun parse(value: String): AFUNIXSocketAddress =
            when {
                value.startsWith("@") && value.length > 1 -> AFUNIXSocketAddress.inAbstractNamespace(value.substring(1))
                value.startsWith("/") -> AFUNIXSocketAddress.of(Path.of(value))
                else ->
                    throw IllegalArgumentException(
                        "NOTIFY_SOCKET must be an absolute path or an abstract address starting with '@', was '$value'"
                    )
            }

        /** The socket of `NOTIFY_SOCKET`, or null when it is unset; an invalid value is logged in one line and ignored. */
        fun fromEnvironment(env: Map<String, String> = System.getenv()): NotifySocket? {
            val value = env["NOTIFY_SOCKET"]?.takeIf { it.isNotEmpty() } ?: return null
            return try {
                NotifySocket(parse(value), value)
            } catch (e: Exception) {
                log.warn("ignoring NOTIFY_SOCKET: {}", e.message ?: e.toString())
                null
            }
        }
    }
}
