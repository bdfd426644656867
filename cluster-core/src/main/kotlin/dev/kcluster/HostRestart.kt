package dev.kcluster

/**
 * What one host did in a restart of every host ([ClusterWatcher.restartAllHosts]): [member] is its [GroupMember.id], [replaced] and
 * [reason] come from its own rolling restart (see [RestartResult]).
 */
public class HostRestart(
    /** The member's id, `<host>-<watcher pid>`. */
    public val member: String,
    /** What happened on that host. */
    public val outcome: Outcome,
    /** How many of its workers were replaced. */
    public val replaced: Int,
    /** Why it rolled back, was skipped or is gone; null when it restarted. */
    public val reason: String?,
) {
    /** What happened on one host. */
    public enum class Outcome {
        /** Every worker was replaced. */
        RESTARTED,

        /** A replacement failed and the host kept its old workers; the hosts after it were skipped. */
        ROLLED_BACK,

        /** Not restarted, because a host before it rolled back. */
        SKIPPED,

        /** The member left the group (stopped, died, lost its session) before it reported. */
        GONE,
    }

    override fun toString(): String =
        "$member: " +
            when (outcome) {
                Outcome.RESTARTED -> "restarted, $replaced replaced"
                Outcome.ROLLED_BACK -> "rolled back after $replaced replaced: $reason"
                Outcome.SKIPPED -> "skipped: $reason"
                Outcome.GONE -> "gone: $reason"
            }
}
