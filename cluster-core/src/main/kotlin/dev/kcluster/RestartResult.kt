package dev.kcluster

/**
 * The outcome of a rolling restart.
 *
 * @property replaced how many workers were replaced.
 * @property rolledBack true when a replacement failed to become READY and the remaining old workers were kept; [reason] says why.
 */
public class RestartResult(public val replaced: Int, public val rolledBack: Boolean, public val reason: String?) {
    override fun toString(): String = if (rolledBack) "rolled back after $replaced replaced: $reason" else "replaced $replaced"
}
