package dev.kcluster.cli

import org.slf4j.LoggerFactory
import sun.misc.Signal

/** POSIX signal handlers via `sun.misc.Signal` (QUIT stays the JVM's thread dump). */
internal object Signals {
    private val log = LoggerFactory.getLogger("dev.kcluster.cli")

    /** Runs [action] on each SIG[name]; false (with a warning) when the JVM does not let us handle it. */
    fun handle(name: String, action: () -> Unit): Boolean = try {
        Signal.handle(Signal(name)) { action() }
        true
    } catch (e: IllegalArgumentException) {
        log.warn("cannot handle SIG{}: {}", name, e.message)
        false
    }
}
