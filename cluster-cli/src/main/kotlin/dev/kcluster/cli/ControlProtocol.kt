package dev.kcluster.cli

import kotlinx.serialization.Serializable
import kotlinx.serialization.json.Json

/*
 * The control protocol between `cluster status|reload|stop|scale` and a running watcher.
 *
 * Transport: the AF_UNIX stream socket `<pid file>.sock` (mode 0600), created by the watcher
 * beside its pid file. The watcher serves only peers with its own uid (SO_PEERCRED).
 *
 * One exchange per connection: the client writes one JSON object on one line (UTF-8, ending in
 * "\n", at most 64 KiB), the watcher answers with one JSON object on one line and closes.
 *
 *   request:  {"command":"status"} | {"command":"reload"} | {"command":"stop"} | {"command":"scale","workers":3}
 *   answer:   {"ok":true, ...} or {"ok":false,"error":"why"}
 *
 *   status -> {"ok":true,"status":{"watcherPid":1,"target":"x.Main","workers":[{"id":1,"pid":2,"state":"READY",
 *              "uptimeMillis":1500,"restarts":0,"rssBytes":52428800}]}}
 *   reload -> {"ok":true,"replaced":2} (after the rolling restart), or
 *             {"ok":false,"rolledBack":true,"replaced":0,"error":"replacement worker 3 for worker 1 failed: ..."}
 *   stop   -> {"ok":true,"watcherPid":1} at once; the watcher then stops its workers and exits
 *   scale  -> {"ok":true,"status":{...}} once the cluster has the new size
 *   top    -> like status, each worker also with "slot", "heapBytes", "openConnections", "requests" and
 *             "cpuTicks" (user + system, /proc/PID/stat), for `cluster top`
 *
 * Unknown fields are ignored both ways, so either side may add fields.
 */

/** A control request: [command] is `status`, `reload`, `stop` or `scale` (with [workers]). */
@Serializable
internal data class ControlRequest(val command: String, val workers: Int? = null)

/** A control answer; [ok] false carries [error]. */
@Serializable
internal data class ControlResponse(
    val ok: Boolean,
    val error: String? = null,
    val watcherPid: Long? = null,
    val status: ClusterStatus? = null,
    val replaced: Int? = null,
    val rolledBack: Boolean? = null,
)

/** What `status` reports: the watcher and its live workers. */
@Serializable
internal data class ClusterStatus(val watcherPid: Long, val target: String, val workers: List<WorkerStatus>)

/** One worker in a [ClusterStatus]; [rssBytes] is null when /proc has no answer. */
@Serializable
internal data class WorkerStatus(
    val id: Int,
    val pid: Long,
    val state: String,
    val uptimeMillis: Long,
    val restarts: Int,
    val rssBytes: Long? = null,
    /** The fields below come only with `top`. */
    val slot: Int? = null,
    val heapBytes: Long? = null,
    val openConnections: Int? = null,
    val requests: Long? = null,
    /** User plus system CPU time in clock ticks, from `/proc/PID/stat`. */
    val cpuTicks: Long? = null,
)

internal object ControlProtocol {
    const val MAX_LINE = 64 * 1024

    val json = Json {
        ignoreUnknownKeys = true
        explicitNulls = false
    }
}
