package dev.kcluster

/** How the watcher's balancer ([SocketMode.BALANCE]) chooses a worker for each new connection. */
public enum class BalanceStrategy {
    /** Each READY worker in turn (the default). */
    ROUND_ROBIN,

    /**
     * The worker with the fewest open connections ([WorkerLoad.openConnections], as last reported) plus the connections sent to it that its
     * last report did not count yet, so a burst is spread too.
     */
    LEAST_CONNECTIONS,

    /**
     * Sticky by client address: rendezvous hashing of the address over the workers' slot numbers, so one address keeps its worker while the
     * set of slots is the same (a restarted worker keeps its slot's clients).
     */
    IP_HASH,
}
