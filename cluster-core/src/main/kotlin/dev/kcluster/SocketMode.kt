package dev.kcluster

/** How workers get listening sockets from [Cluster.serverSocketFactory]. */
public enum class SocketMode {
    /** The watcher binds each address once and every worker shares that socket and its accept queue. */
    SHARED,

    /** Each worker binds its own socket with SO_REUSEPORT; the kernel balances connections. */
    REUSE_PORT,

    /**
     * The watcher binds each address once, accepts every connection itself and hands it to a READY worker chosen by [WatcherConfig.balance]
     * (round-robin by default). A worker's `listen()` returns a channel whose `accept()` yields the sockets passed to it; cluster-netty
     * serves them unchanged.
     */
    BALANCE,
}
