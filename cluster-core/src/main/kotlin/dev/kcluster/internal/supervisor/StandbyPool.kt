package dev.kcluster.internal.supervisor

import java.util.concurrent.CopyOnWriteArrayList
import org.slf4j.Logger

/**
 * The standby workers ([dev.kcluster.WatcherConfig.standby]): JVMs in no slot, held before they would start serving, waiting to replace a
 * crashed worker at once. [take] hands out a warm one (held and connected); the watcher refills the pool with [launch].
 */
internal class StandbyPool(
    private val size: Int,
    private val spawner: () -> Spawner,
    private val log: Logger,
    private val running: () -> Boolean,
    private val changed: () -> Unit,
) {
    private val workers = CopyOnWriteArrayList<RealWorker>()

    /** The standbys, warm or still starting. */
    val members: List<RealWorker>
        get() = workers.snapshot()

    /** Starts standbys in the background until there are [size] (none is waited for). */
    fun fill() {
        repeat((size - workers.size).coerceAtLeast(0)) { launch() }
    }

    /** Starts one standby in the background. */
    fun launch() {
        if (!running()) return
        try {
            workers += spawner().launch(null, 0, Origin.STANDBY)
            changed()
        } catch (e: Exception) {
            log.error("cannot start a standby worker: {}", e.message)
        }
    }

    /** A warm standby (held, connected), removed from the pool; null when there is none. */
    fun take(): RealWorker? {
        for (s in workers) if (s.life === Life.Standby && s.conn?.isOpen == true && workers.remove(s)) return s
        return null
    }

    /** Forgets [w] (it exited or was stopped); true when it was a member. */
    fun remove(w: RealWorker): Boolean = workers.remove(w).also { if (it) changed() }

    /** Empties the pool and returns who was in it (a rolling restart stops them: they run the old code). */
    fun drain(): List<RealWorker> =
        workers.snapshot().also {
            workers.removeAll(it.toSet())
            changed()
        }
}
