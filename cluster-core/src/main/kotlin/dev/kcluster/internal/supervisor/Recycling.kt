package dev.kcluster.internal.supervisor

import dev.kcluster.WatcherConfig
import kotlin.coroutines.coroutineContext
import kotlin.random.Random
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive

/**
 * Graceful recycling: every [intervalMillis] (at most a second), finds a READY worker past a limit (`maxRequests` with jitter, `maxMemory`
 * after GC, `maxRss`) and hands it to [recycle], which replaces it like a one-worker rolling restart (successor READY first). One at a
 * time: the next check waits until [recycle] has returned, so the cluster never has fewer than N-1 READY workers because of it.
 */
internal class Recycling(
    private val config: WatcherConfig,
    private val intervalMillis: Long,
    private val workers: () -> List<RealWorker>,
    private val recycle: suspend (RealWorker, reason: String) -> Unit,
    private val random: Random = Random.Default,
) {
    val enabled: Boolean
        get() = config.maxRequests > 0 || config.maxMemory > 0 || config.maxRss > 0

    /** The request limit for a new worker, jitter included; 0 for none. */
    fun requestLimit(): Long =
        if (config.maxRequests <= 0) 0
        else config.maxRequests + if (config.maxRequestsJitter > 0) random.nextLong(config.maxRequestsJitter + 1) else 0

    /** Why [w] is due (`requests`, `heap`, `rss`), or null. */
    fun due(w: RealWorker): String? {
        if (w.life !== Life.Ready) return null
        val load = w.load
        return when {
            w.requestLimit > 0 && load.requests >= w.requestLimit -> "requests"
            config.maxMemory > 0 && load.heapUsedAfterGc > config.maxMemory -> "heap"
            config.maxRss > 0 && load.rssBytes > config.maxRss -> "rss"
            else -> null
        }
    }

    suspend fun run() {
        while (coroutineContext.isActive) {
            delay(intervalMillis)
            for (w in workers()) {
                val reason = due(w) ?: continue
                recycle(w, reason)
                break
            }
        }
    }
}
