package dev.kcluster.zookeeper.internal

import dev.kcluster.ClusterWatcher
import dev.kcluster.GroupConfig
import dev.kcluster.InternalKclusterApi
import dev.kcluster.internal.group.GroupExtension
import dev.kcluster.internal.group.GroupHost
import dev.kcluster.internal.group.GroupSession
import dev.kcluster.zookeeper.ZooKeeperCredentials
import dev.kcluster.zookeeper.ZooKeeperMembership
import kotlin.time.toKotlinDuration

/** Found by cluster-core through `META-INF/services`: a watcher with `WatcherConfig.group` joins its group through this. */
@OptIn(InternalKclusterApi::class)
public class ZooKeeperGroupExtension : GroupExtension {
    override fun check(group: GroupConfig) {
        builder(null, group).validate()
    }

    override fun join(watcher: ClusterWatcher, group: GroupConfig, host: GroupHost): GroupSession = builder(watcher, group).start(host)

    private fun builder(watcher: ClusterWatcher?, g: GroupConfig): ZooKeeperMembership.Builder =
        ZooKeeperMembership.Builder(watcher)
            .connect(g.connect)
            .group(g.name)
            .sessionTimeout(g.sessionTimeout.toKotlinDuration())
            .connectionTimeout(g.connectionTimeout.toKotlinDuration())
            .leadership(g.leadership)
            .credentials(
                g.credentialsFile?.let(ZooKeeperCredentials::fromFile) ?: g.credentialsVariable?.let(ZooKeeperCredentials::fromEnvironment)
            )
            .apply { g.hostName?.let { hostName(it) } }
}
