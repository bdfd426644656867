package dev.kcluster

/**
 * How a listening socket is bound.
 *
 * @property backlog the accept queue length.
 * @property reuseAddress SO_REUSEADDR, so a restarted cluster can bind while old connections linger.
 * @property tcpNoDelay TCP_NODELAY for accepted connections (set on the listener; Linux passes it on).
 * @property reusePort bind a socket of this process's own with SO_REUSEPORT instead of sharing the watcher's socket; the kernel balances
 *   connections between the processes.
 */
public class ListenOptions
@JvmOverloads
constructor(
    public val backlog: Int = 1024,
    public val reuseAddress: Boolean = true,
    public val tcpNoDelay: Boolean = true,
    public val reusePort: Boolean = false,
) {
    init {
        require(backlog > 0) { "backlog must be positive, was $backlog" }
    }

    /** A copy with [reusePort] set. */
    public fun withReusePort(reusePort: Boolean): ListenOptions = ListenOptions(backlog, reuseAddress, tcpNoDelay, reusePort)

    override fun toString(): String =
        "ListenOptions(backlog=$backlog, reuseAddress=$reuseAddress, tcpNoDelay=$tcpNoDelay, reusePort=$reusePort)"

    public companion object {
        /** Backlog 1024, SO_REUSEADDR, TCP_NODELAY, a shared socket. */
        @JvmField public val DEFAULT: ListenOptions = ListenOptions()
    }
}
