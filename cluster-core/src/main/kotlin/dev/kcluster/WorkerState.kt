package dev.kcluster

/**
 * Where a worker is in its life: STARTING → READY → DRAINING → STOPPED or CRASHED. A standby ([WatcherConfig.standby]) goes STARTING →
 * STANDBY, and on promotion STANDBY → STARTING → READY.
 */
public enum class WorkerState {
    STARTING,
    READY,
    DRAINING,
    STOPPED,
    CRASHED,
    STANDBY,
}
