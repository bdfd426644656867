package dev.kcluster

import dev.kcluster.internal.net.format
import dev.kcluster.internal.net.parseAddress
import java.io.IOException
import java.net.BindException
import java.net.StandardSocketOptions
import java.nio.channels.ServerSocketChannel

/** A [ServerSocketFactory] that binds in this process: what a program uses when it runs standalone. */
public class LocalServerSocketFactory : ServerSocketFactory {
    @Throws(IOException::class)
    override fun listen(address: String, options: ListenOptions): ServerSocketChannel =
        bindLocal(address, options).also { if (options.tcpNoDelay) setNoDelay(it) }

    internal companion object {
        fun bindLocal(address: String, options: ListenOptions): ServerSocketChannel {
            val addr = parseAddress(address)
            val ch = ServerSocketChannel.open()
            try {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, options.reuseAddress)
                if (options.reusePort) ch.setOption(StandardSocketOptions.SO_REUSEPORT, true)
                ch.bind(addr, options.backlog)
                return ch
            } catch (e: IOException) {
                ch.close()
                throw BindException("cannot listen on ${addr.format()}: ${e.message}").apply { initCause(e) }
            }
        }
    }
}

/**
 * TCP_NODELAY on a listener, which Linux copies to every connection it accepts. The JDK does not offer the option on server channels, so it
 * goes through the internal adapter; without the opens flag it is skipped (Netty and most servers set it on accepted channels anyway).
 */
internal fun setNoDelay(channel: ServerSocketChannel) {
    runCatching {
        val local = channel.localAddress as java.net.InetSocketAddress
        dev.kcluster.internal.net.JdkChannels.setOption(
            dev.kcluster.internal.net.JdkChannels.fdOf(channel),
            dev.kcluster.internal.net.JdkChannels.family(local.address is java.net.Inet6Address),
            StandardSocketOptions.TCP_NODELAY,
            true,
        )
    }
}
