package dev.kcluster.internal.net

import java.io.IOException
import java.net.UnixDomainSocketAddress
import java.nio.channels.SocketChannel
import org.newsclub.net.unix.AFUNIXSocketChannel
import org.newsclub.net.unix.FileDescriptorCast

/**
 * The channel kcluster's IPC runs on, for a connected AF_UNIX [SocketChannel] given by a user. The JDK's own Unix channels
 * (`SocketChannel.open(UnixDomainSocketAddress)`, or accepted from a `ServerSocketChannel.open(StandardProtocolFamily.UNIX)`) cannot pass
 * descriptors, so their descriptor is duplicated into a junixsocket channel (which can) and the JDK channel is closed; a junixsocket
 * channel is used as it is. Either way the result is in blocking mode.
 */
internal fun adoptUnixChannel(channel: SocketChannel): AFUNIXSocketChannel {
    if (channel is AFUNIXSocketChannel) return channel.apply { configureBlocking(true) }
    require(channel.isOpen && channel.isConnected && channel.remoteAddress is UnixDomainSocketAddress) {
        "a socket pipe needs a connected Unix-domain SocketChannel (e.g. SocketChannel.open(UnixDomainSocketAddress.of(path))), got $channel"
    }
    val adopted =
        try {
            FileDescriptorCast.duplicating(JdkChannels.fdOf(channel)).`as`(AFUNIXSocketChannel::class.java)
        } catch (e: IOException) {
            throw IOException("cannot use $channel for descriptor passing: ${e.message}", e)
        }
    channel.close()
    return adopted.apply { configureBlocking(true) }
}
