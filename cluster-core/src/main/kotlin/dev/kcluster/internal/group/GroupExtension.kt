package dev.kcluster.internal.group

import dev.kcluster.ClusterWatcher
import dev.kcluster.GroupConfig
import dev.kcluster.GroupMember
import dev.kcluster.HostRestart
import dev.kcluster.InternalKclusterApi
import dev.kcluster.RestartResult
import java.util.ServiceLoader

/**
 * The hook a group module (`cluster-zookeeper`) plugs into, found with [ServiceLoader], so that core needs no ZooKeeper. A watcher whose
 * config has a [GroupConfig] calls [check] before its first worker starts and [join] once its workers are READY.
 */
@InternalKclusterApi
public interface GroupExtension {
    /** Checks [group] (connect string, name, credentials) before anything starts; throws [IllegalArgumentException] naming the fix. */
    public fun check(group: GroupConfig)

    /**
     * Joins [group] for [watcher]. The session reports the members through [host]`.hosts`, delivers cluster-wide broadcasts through
     * [host]`.deliver`, and restarts this host for a group restart through [host]`.restartHost`. Throws to refuse the start (credentials
     * refused).
     */
    public fun join(watcher: ClusterWatcher, group: GroupConfig, host: GroupHost): GroupSession

    public companion object {
        /** The installed extension, or null when no group module is on the classpath. */
        public fun load(): GroupExtension? =
            ServiceLoader.load(GroupExtension::class.java, GroupExtension::class.java.classLoader).firstOrNull()
    }
}

/** What the watcher gives its [GroupSession]. */
@InternalKclusterApi
public interface GroupHost {
    /** The members changed (sorted by id). */
    public fun hosts(members: List<GroupMember>)

    /** A cluster-wide broadcast arrived (once per broadcast): send it to this host's serving workers. */
    public fun deliver(type: String, body: ByteArray)

    /** Restarts this host for a group restart: the watcher's rolling restart, or what [setHostRestart] installed. */
    public suspend fun restartHost(): RestartResult
}

/** A watcher's membership in its group: cluster-wide actions; closing leaves the group. */
@InternalKclusterApi
public interface GroupSession : AutoCloseable {
    /**
     * Publishes a broadcast for every member (this one included); returns how many members the group has. Limits are checked by the watcher
     * before.
     *
     * @throws IllegalStateException when ZooKeeper is not connected (degraded mode).
     */
    public fun broadcast(type: String, body: ByteArray): Int

    /** Restarts every member, one host at a time; see [ClusterWatcher.restartAllHosts]. */
    public suspend fun restartAllHosts(): List<HostRestart>

    /** Leaves the group. */
    override fun close()
}

/**
 * Makes this host's part of a group restart ([ClusterWatcher.restartAllHosts], also when another host started it) run [action] instead of
 * [ClusterWatcher.restart]; null puts the plain restart back. For the `cluster` command, whose reload rereads its config file first.
 */
@InternalKclusterApi
public fun ClusterWatcher.setHostRestart(action: (suspend () -> RestartResult)?) {
    val real =
        this as? dev.kcluster.internal.supervisor.RealClusterWatcher
            ?: throw IllegalArgumentException("$this is not a watcher made by ClusterWatcher(config)")
    real.hostRestart = action
}
