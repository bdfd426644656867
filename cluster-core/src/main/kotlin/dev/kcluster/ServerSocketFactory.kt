package dev.kcluster

import java.io.IOException
import java.nio.channels.ServerSocketChannel

/**
 * Creates listening sockets. Code written against it runs unchanged standalone ([LocalServerSocketFactory]) or in a cluster
 * ([Cluster.serverSocketFactory]), where the watcher binds each address once and every worker gets the same socket.
 *
 * The channel returned is a genuine JDK [ServerSocketChannel] in blocking mode: hand it to Netty's
 * `NioServerSocketChannel(ServerSocketChannel)` or accept on it directly.
 */
public interface ServerSocketFactory {
    /**
     * A listening socket on [address] (`host:port`, `[v6]:port`, `:port`; port 0 for an ephemeral port).
     *
     * @throws java.net.BindException with the OS reason and the address when it cannot be bound.
     * @throws IOException when the watcher cannot be reached.
     */
    @Throws(IOException::class) public fun listen(address: String, options: ListenOptions): ServerSocketChannel

    /** [listen] with [ListenOptions.DEFAULT]. */
    @Throws(IOException::class) public fun listen(address: String): ServerSocketChannel = listen(address, ListenOptions.DEFAULT)
}
