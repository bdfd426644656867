package dev.kcluster.internal.standalone

import dev.kcluster.internal.signals.PosixSignals
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import org.slf4j.LoggerFactory

/**
 * The signals of a program running standalone ([dev.kcluster.Cluster] outside a cluster): TERM, INT and HUP call the stop action once; a
 * second one exits at once with 128+signal. There are no workers to reload, so HUP stops too (a process manager restarts the program).
 */
internal object StandaloneSignals {
    private val installed = AtomicBoolean()
    private val count = AtomicInteger()

    /** Installs the handlers on the first call; later calls do nothing. */
    fun install(onStop: () -> Unit) {
        if (!installed.compareAndSet(false, true)) return
        for (name in listOf("TERM", "INT", "HUP")) {
            PosixSignals.handle(name) { sig ->
                if (count.incrementAndGet() > 1) {
                    PosixSignals.exit(PosixSignals.EXIT_BASE + sig.number)
                } else {
                    LoggerFactory.getLogger("dev.kcluster.Cluster").info("SIG{} received; stopping", sig.name)
                    onStop()
                }
            }
        }
    }
}
