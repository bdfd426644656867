package dev.kcluster.java

/**
 * A registered listener; [close] removes it. Closing twice is harmless.
 *
 * ```java
 * try (Registration r = watcher.onMessage(m -> System.out.println(m.getMessage().asString()))) { … }
 * ```
 */
public fun interface Registration : AutoCloseable {
    /** Removes the listener; no call reaches it after this returns, except one already running. */
    override fun close()
}
