package dev.kcluster.internal.signals

import dev.kcluster.internal.procStatus
import kotlin.concurrent.thread
import kotlin.system.exitProcess
import org.slf4j.LoggerFactory
import sun.misc.Signal

/** `sun.misc.Signal` handlers and the exit after a signal, shared by [dev.kcluster.WatcherSignals] and [StandaloneSignals]. */
internal object PosixSignals {
    /** A process stopped by signal n exits with 128+n, like a shell reports it. */
    const val EXIT_BASE = 128

    /** How long shutdown hooks may take after a forced exit before the JVM halts. */
    const val EXIT_WATCHDOG_MILLIS = 5_000L

    private val log = LoggerFactory.getLogger("dev.kcluster.signals")

    /**
     * Runs [action] on each SIG[name]; returns what puts the previous handler back, or null (with a warning) when the JVM keeps that signal
     * for itself (QUIT, its thread dump), or when the process started with it ignored: HotSpot leaves HUP, INT and TERM ignored then
     * (`nohup`, or `cmd &` in a script), without an error, so a reload by SIGHUP would silently do nothing.
     */
    fun handle(name: String, action: (Signal) -> Unit): (() -> Unit)? =
        try {
            val sig = Signal(name)
            val previous = Signal.handle(sig) { action(it) }
            if (previous === sun.misc.SignalHandler.SIG_IGN && stillIgnored(sig.number)) {
                runCatching { Signal.handle(sig, previous) }
                log.warn(
                    "SIG{} is ignored by this process (it started with it ignored, e.g. under nohup or as `cmd &` in a script), so it does " +
                        "nothing here; start without that, or use the control socket (--pid-file F, then `cluster {} -p F`)",
                    name,
                    if (name == "HUP") "reload" else "stop",
                )
                null
            } else {
                val restore = {
                    runCatching { Signal.handle(sig, previous) }
                    Unit
                }
                restore
            }
        } catch (e: IllegalArgumentException) {
            log.warn("cannot handle SIG{}: {}", name, e.message)
            null
        }

    /** True when the kernel still ignores signal [number] for this process (`SigIgn` in /proc/self/status); false when unknown. */
    private fun stillIgnored(number: Int): Boolean =
        procStatus("self", "SigIgn")?.toULongOrNull(16)?.let { mask -> (mask shr (number - 1)) and 1uL == 1uL } ?: false

    /**
     * Exits the JVM with [code] from a new thread, so the caller (a signal handler) returns. Shutdown hooks run (kcluster's remove the IPC
     * directory), but one that hangs cannot hold the exit up for longer than [EXIT_WATCHDOG_MILLIS]: the JVM then halts with [code].
     */
    fun exit(code: Int) {
        thread(isDaemon = true, name = "kcluster-exit-watchdog") {
            Thread.sleep(EXIT_WATCHDOG_MILLIS)
            Runtime.getRuntime().halt(code)
        }
        thread(name = "kcluster-exit") { exitProcess(code) }
    }
}
