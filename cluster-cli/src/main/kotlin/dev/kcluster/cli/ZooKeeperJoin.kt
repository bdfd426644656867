package dev.kcluster.cli

import dev.kcluster.ClusterWatcher
import dev.kcluster.zookeeper.ZooKeeperCredentials
import dev.kcluster.zookeeper.ZooKeeperMembership
import kotlin.time.toKotlinDuration

/** The CLI's view of its group membership; keeps Curator types out of [ClusterRunner]. */
internal interface GroupHandle : AutoCloseable {
    fun hosts(): List<HostStatus>
}

/** `--zookeeper/--group`: the only CLI code that touches cluster-zookeeper (and so Curator). */
internal object ZooKeeperJoin {
    /** Joins; @throws IllegalArgumentException or ZooKeeperGroupException with a message for the user. */
    fun join(watcher: ClusterWatcher, options: RunOptions): GroupHandle {
        val credentials =
            options.zkAuthFile?.let(ZooKeeperCredentials::fromFile)
                ?: System.getenv(ZooKeeperCredentials.ENV)?.let { ZooKeeperCredentials.fromEnvironment() }
        val m =
            ZooKeeperMembership.builder(watcher)
                .connect(options.zookeeper!!)
                .group(options.group!!)
                .credentials(credentials)
                .apply { options.zkSessionTimeout?.let { sessionTimeout(it.toKotlinDuration()) } }
                .start()
        return object : GroupHandle {
            override fun hosts() =
                m.hosts.value.map { h ->
                    HostStatus(
                        id = h.id,
                        host = h.host,
                        watcherPid = h.pid,
                        phase = h.phase,
                        workers = h.workers.size,
                        ready = h.workers.count { it.state == "READY" },
                        addresses = h.addresses,
                        startedAtMillis = h.startedAtMillis,
                        leaderWorker = h.leaderWorker,
                        leaderEpoch = h.leaderEpoch,
                    )
                }

            override fun close() = m.close()
        }
    }
}
