package dev.kcluster

import dev.kcluster.internal.supervisor.RealWorker
import java.io.IOException

/**
 * Makes this worker the group's leader under [epoch]: its [Cluster.leadership] becomes `Leadership(true, epoch)`. A worker ignores a grant
 * whose epoch is not larger than the last it saw. For coordination modules (`cluster-zookeeper`), which guarantee one leader at a time.
 *
 * @throws IOException when the worker is not connected.
 */
@InternalKclusterApi
@Throws(IOException::class)
public fun ClusterWorker.grantLeadership(epoch: Long): Unit = real().sendLeadership(granted = true, epoch = epoch)

/**
 * Ends this worker's leadership at once (its [Cluster.leadership] becomes not-leader, keeping the last epoch).
 *
 * @throws IOException when the worker is not connected (a worker that lost its watcher is no leader anyway).
 */
@InternalKclusterApi
@Throws(IOException::class)
public fun ClusterWorker.revokeLeadership(): Unit = real().sendLeadership(granted = false, epoch = 0)

private fun ClusterWorker.real(): RealWorker =
    this as? RealWorker ?: throw IllegalArgumentException("$this is not a worker of a ClusterWatcher")
