package dev.kcluster

/** Where a worker is in its life: STARTING → READY → DRAINING → STOPPED or CRASHED. */
public enum class WorkerState { STARTING, READY, DRAINING, STOPPED, CRASHED }
