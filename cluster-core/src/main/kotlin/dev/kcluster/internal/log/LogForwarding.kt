package dev.kcluster.internal.log

/**
 * Worker side of log forwarding: in a worker JVM started by a watcher, [forward] sends a whole record to the watcher as a LOG frame. An
 * SLF4J backend that understands kcluster (`cluster-logging`) calls it for every record and writes the record itself only when it returns
 * false. Plumbing, not an application API.
 */
@dev.kcluster.InternalKclusterApi
public object LogForwarding {
    @Volatile internal var sender: ((LogRecord) -> Boolean)? = null
    private val busy = ThreadLocal<Boolean>()

    /**
     * Sends [record] to the watcher. False when this JVM is not a worker, its connection is closed, or the call is re-entrant (logging from
     * inside the send); never throws.
     */
    @JvmStatic
    public fun forward(record: LogRecord): Boolean {
        val send = sender ?: return false
        if (busy.get() == true) return false
        busy.set(true)
        return try {
            send(record)
        } catch (_: Throwable) {
            false
        } finally {
            busy.set(false)
        }
    }
}
