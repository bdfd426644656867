package dev.kcluster

/**
 * Whether this worker is the one leader of its group ([Cluster.leadership]), and the [epoch] of the latest grant it saw. Leadership exists
 * only when the watchers coordinate (the `cluster-zookeeper` module); otherwise, and standalone, it stays [NONE].
 *
 * The epoch only grows across the whole group: every grant, to any worker on any host, carries a larger one. Pass it along with side
 * effects (a write, a lease) so that their target can refuse a stale leader.
 */
public data class Leadership(
    /** True while this worker holds the group's leadership. */
    public val isLeader: Boolean,
    /** The epoch of the latest grant this worker received; 0 before any. */
    public val epoch: Long,
) {
    public companion object {
        /** Not the leader, no grant seen yet. */
        @JvmField public val NONE: Leadership = Leadership(isLeader = false, epoch = 0)
    }
}
