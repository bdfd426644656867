package dev.kcluster.zookeeper.internal

import org.apache.curator.framework.CuratorFramework
import org.apache.zookeeper.KeeperException
import org.apache.zookeeper.data.Stat

/** The group's epoch: a persistent node holding a decimal number, raised by compare-and-set on its version, so it only grows. */
internal class EpochCounter(private val client: CuratorFramework, private val path: String) {
    fun ensure() {
        try {
            client.create().creatingParentsIfNeeded().forPath(path, "0".encodeToByteArray())
        } catch (_: KeeperException.NodeExistsException) {}
    }

    /** Raises the epoch by one and returns the new value (blocking; throws when ZooKeeper cannot be reached). */
    fun next(): Long {
        while (true) {
            val stat = Stat()
            val current =
                try {
                    client.data.storingStatIn(stat).forPath(path).decodeToString().trim().toLongOrNull() ?: 0
                } catch (_: KeeperException.NoNodeException) {
                    ensure()
                    continue
                }
            try {
                client.setData().withVersion(stat.version).forPath(path, (current + 1).toString().encodeToByteArray())
                return current + 1
            } catch (_: KeeperException.BadVersionException) {
                // another watcher raised it meanwhile: read again
            }
        }
    }
}
