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
 *             | {"command":"restart-worker","worker":4} | {"command":"kill-worker","worker":4}
 *   answer:   {"ok":true, ...} or {"ok":false,"error":"why"}
 *
 *   status -> {"ok":true,"status":{"watcherPid":1,"target":"x.Main","socketMode":"shared","listening":["127.0.0.1:8080"],
 *              "droppedMessages":0,"workers":[{"slot":1,"id":1,"pid":2,"state":"READY","uptimeMillis":1500,"restarts":0,
 *              "lastExit":"exit code 0: recycled: requests","rssBytes":52428800,"heapBytes":8388608,"connections":3,"requests":120}]}}
 *             (standbys have "slot":0, and "state" STARTING until held, then STANDBY; "lastExit" is the last exit of a worker in that slot)
 *   status with "allHosts":true -> {"ok":true,"status":{...},"hosts":[{"id":"h1-12","host":"h1","watcherPid":12,
 *              "phase":"RUNNING","workers":2,"ready":2,"addresses":["0.0.0.0:8080"],"startedAtMillis":…,"leaderWorker":1,"leaderEpoch":7}]}
 *              (an error when the cluster runs without --zookeeper)
 *   reload -> {"ok":true,"replaced":2} (after the rolling restart), or
 *             {"ok":false,"rolledBack":true,"replaced":0,"error":"replacement worker 3 for worker 1 failed: ..."}
 *   reload with "allHosts":true -> once every host of the group is done, one host at a time:
 *             {"ok":true,"restarts":[{"member":"h1-12","outcome":"RESTARTED","replaced":2},…]}, or with a rollback
 *             {"ok":false,"rolledBack":true,"error":"…","restarts":[…,{"member":"h2-40","outcome":"ROLLED_BACK","replaced":0,
 *             "reason":"…"},{"member":"h3-77","outcome":"SKIPPED","reason":"h2-40 rolled back"}]} (GONE: the member left the group
 *             before it reported; an error when the cluster runs without --zookeeper)
 *   stop   -> {"ok":true,"watcherPid":1} at once; the watcher then stops its workers and exits
 *   scale  -> {"ok":true,"status":{...}} once the cluster has the new size
 *   restart-worker -> {"ok":true,"replaced":1,"detail":"worker 4 replaced by worker 7 (pid 1234)","status":{...}} once the
 *             successor is READY and worker 4 has drained, or {"ok":false,"rolledBack":true,"replaced":0,"error":"..."}
 *   kill-worker -> {"ok":true,"detail":"worker 4 (pid 1200) killed with SIGKILL; it is respawned"} at once
 *   an unknown worker id -> {"ok":false,"error":"no worker with id 9 (workers: 1, 2, 3)"}
 *   top    -> like status, each worker also with "slot", "heapBytes", "openConnections", "requests" and
 *             "cpuTicks" (user + system, /proc/PID/stat), for `cluster top`
 *
 * Unknown fields are ignored both ways, so either side may add fields.
 */

/**
 * A control request: [command] is `status`, `reload`, `stop`, `scale` (with [workers]), `restart-worker` or `kill-worker` (with [worker]).
 */
@Serializable
internal data class ControlRequest(val command: String, val workers: Int? = null, val worker: Int? = null, val allHosts: Boolean? = null)

/** A control answer; [ok] false carries [error]. */
@Serializable
internal data class ControlResponse(
    val ok: Boolean,
    val error: String? = null,
    val watcherPid: Long? = null,
    val status: ClusterStatus? = null,
    val replaced: Int? = null,
    val rolledBack: Boolean? = null,
    val detail: String? = null,
    val hosts: List<HostStatus>? = null,
    /** `reload` with "allHosts": one entry per host, in the order they finished. */
    val restarts: List<HostRestartStatus>? = null,
)

/** One host's part of `reload --all-hosts`: [outcome] is RESTARTED, ROLLED_BACK, SKIPPED or GONE. */
@Serializable
internal data class HostRestartStatus(val member: String, val outcome: String, val replaced: Int = 0, val reason: String? = null)

/** One member of the cluster's ZooKeeper group (`status --all-hosts`). */
@Serializable
internal data class HostStatus(
    val id: String,
    val host: String,
    val watcherPid: Long,
    val phase: String,
    val workers: Int,
    val ready: Int,
    val addresses: List<String>,
    val startedAtMillis: Long,
    val leaderWorker: Int? = null,
    val leaderEpoch: Long = 0,
)

/**
 * What `status` reports: the watcher, its listening addresses and socket mode, how many worker messages it dropped (nothing consumes them
 * under `cluster`), and its live workers and standbys.
 */
@Serializable
internal data class ClusterStatus(
    val watcherPid: Long,
    val target: String,
    val workers: List<WorkerStatus>,
    val socketMode: String? = null,
    val listening: List<String> = emptyList(),
    val droppedMessages: Long = 0,
)

/**
 * One worker in a [ClusterStatus]: [slot] 0 for a standby; [lastExit] the last exit reason of a worker in this slot; [rssBytes] null when
 * /proc has no answer; [heapBytes] (heap in use after GC), [connections] and [requests] as the worker last reported them.
 */
@Serializable
internal data class WorkerStatus(
    val id: Int,
    val pid: Long,
    val state: String,
    val uptimeMillis: Long,
    val restarts: Int,
    val rssBytes: Long? = null,
    val slot: Int = 0,
    val lastExit: String? = null,
    val heapBytes: Long? = null,
    val connections: Int? = null,
    val requests: Long? = null,
    /** User plus system CPU time in clock ticks, from `/proc/PID/stat` (with `top`). */
    val cpuTicks: Long? = null,
) {
    /** A standby, starting (STARTING) or held (STANDBY): slot 0 is theirs. */
    val isStandby: Boolean
        get() = slot == 0
}

internal object ControlProtocol {
    const val MAX_LINE = 64 * 1024

    val json = Json {
        ignoreUnknownKeys = true
        encodeDefaults = true
        explicitNulls = false
    }
}
