package dev.kcluster

/**
 * The cluster could not start or keep running: a worker failed before READY at start, or workers crashed more often than allowed. [reason]
 * is the worker's real exit reason when there is one.
 */
public class ClusterException(message: String, public val reason: ExitReason? = null, cause: Throwable? = null) :
    RuntimeException(message, cause)
