package dev.kcluster

import java.nio.channels.SocketChannel

/**
 * A client connection received from another process, with the data the sender attached.
 *
 * @property socket a genuine, connected JDK [SocketChannel] in blocking mode; call `configureBlocking(false)` to register it with a
 *   selector. The receiver owns it.
 * @property data the value sent with it, or null.
 */
public class TransferredSocket internal constructor(public val socket: SocketChannel, public val data: Message?) {
    override fun toString(): String = "TransferredSocket(${runCatching { socket.remoteAddress }.getOrNull()}, $data)"
}
