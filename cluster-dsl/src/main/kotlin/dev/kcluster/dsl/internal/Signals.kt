package dev.kcluster.dsl.internal

import org.slf4j.LoggerFactory
import sun.misc.Signal
import sun.misc.SignalHandler
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlin.system.exitProcess

/** The watcher's signals: TERM/INT stop gracefully (a second one exits at once), HUP restarts. Returns the undo. */
internal object Signals {
    private val log = LoggerFactory.getLogger("dev.kcluster.dsl.watcher")

    fun install(onStop: () -> Unit, onRestart: () -> Unit): () -> Unit {
        val stops = AtomicInteger()
        val previous = mutableListOf<Pair<Signal, SignalHandler>>()
        fun handle(name: String, action: (Signal) -> Unit) {
            runCatching {
                val sig = Signal(name)
                previous += sig to Signal.handle(sig) { action(it) }
            }.onFailure { log.debug("cannot handle SIG{}: {}", name, it.message) }
        }
        val stop: (Signal) -> Unit = { sig ->
            if (stops.incrementAndGet() > 1) {
                log.warn("second SIG{}; exiting now", sig.name)
                thread(name = "kcluster-exit") { exitProcess(128 + sig.number) }; Unit
            } else {
                log.info("SIG{} received; stopping the cluster", sig.name)
                onStop()
            }
        }
        handle("TERM", stop)
        handle("INT", stop)
        handle("HUP") { sig ->
            log.info("SIG{} received; restarting the workers", sig.name)
            onRestart()
        }
        return { previous.forEach { (sig, h) -> runCatching { Signal.handle(sig, h) } } }
    }
}
