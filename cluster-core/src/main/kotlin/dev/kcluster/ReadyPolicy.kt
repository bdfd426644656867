package dev.kcluster

/** When a worker counts as READY besides an explicit [Cluster.ready] call. */
public enum class ReadyPolicy {
    /** Only when the program calls [Cluster.ready]. */
    EXPLICIT,

    /** When the program first takes a listening socket from [Cluster.serverSocketFactory] (the default). */
    LISTEN,

    /** As soon as the program's `main` has been found and is about to run. */
    START,
}
