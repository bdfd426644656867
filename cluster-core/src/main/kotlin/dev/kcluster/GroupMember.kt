package dev.kcluster

/**
 * One watcher of a group ([ClusterWatcher.hosts]), as it registered itself. Without a group, [ClusterWatcher.hosts] holds the watcher
 * alone. With one (`cluster-zookeeper`), each member's record is ephemeral: it disappears when the watcher's ZooKeeper session ends (the
 * watcher stopped, died, or was cut off longer than the session timeout). [phase] and the workers' states are names, as another host may
 * run another kcluster version.
 */
public data class GroupMember(
    /** The member's name: `<host>-<watcher pid>`, unique within the group. */
    public val id: String,
    /** The host name the watcher runs on. */
    public val host: String,
    /** The watcher's process id. */
    public val pid: Long,
    /** The watcher's phase ([ClusterState.Phase] name). */
    public val phase: String,
    /** The watcher's live workers, by slot. */
    public val workers: List<MemberWorker>,
    /** The listening addresses the watcher holds for its workers (`host:port`). */
    public val addresses: List<String>,
    /** When the watcher registered (or, alone, was created), in milliseconds since the epoch. */
    public val startedAtMillis: Long,
    /** The worker id this watcher granted the group's leadership to, or null when it leads no worker. */
    public val leaderWorker: Int? = null,
    /** The epoch of that grant, or 0. */
    public val leaderEpoch: Long = 0,
)

/** One worker in a [GroupMember]. */
public data class MemberWorker(
    /** The worker's slot, from 1 (0 for a standby). */
    public val slot: Int,
    /** The worker id. */
    public val id: Int,
    /** The worker's process id. */
    public val pid: Long,
    /** The worker's state ([WorkerState] name). */
    public val state: String,
)
