package dev.kcluster.zookeeper

import dev.kcluster.ClusterWatcher
import dev.kcluster.GroupMember
import dev.kcluster.InternalKclusterApi
import dev.kcluster.internal.group.GroupHost
import dev.kcluster.java.Registration
import dev.kcluster.zookeeper.internal.ConnectString
import dev.kcluster.zookeeper.internal.RealZooKeeperMembership
import java.util.function.Consumer
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toKotlinDuration
import kotlinx.coroutines.flow.StateFlow

/**
 * Makes a [ClusterWatcher] one member of a group of watchers on several hosts, over ZooKeeper (Apache Curator). The usual way in is
 * [dev.kcluster.WatcherConfig.group]: the watcher then joins by itself once its workers are READY, and [ClusterWatcher.hosts],
 * `broadcast(message, allHosts = true)` and [ClusterWatcher.restartAllHosts] work through it. A membership started here directly (for a
 * watcher without a group setting) has the same membership and leadership, delivers other hosts' broadcasts, and takes part in their group
 * restarts.
 * - **Membership.** The watcher registers an ephemeral node `/kcluster/<group>/members/<host>-<pid>` with its host, pid, workers and their
 *   states, listening addresses and start time, kept up to date from [ClusterWatcher.state]; [hosts] lists every member.
 * - **Leadership** (unless turned off). The watchers elect one of them with a Curator `LeaderLatch`; the leading watcher grants leadership
 *   to one of its READY workers, which sees it as `Cluster.leadership`, with an epoch from `/kcluster/<group>/epoch` that only grows. The
 *   grant moves when that worker dies or leaves READY, when its watcher dies, or when its session is lost; a watcher whose connection is
 *   SUSPENDED revokes at once, before its session can expire, so two leaders never overlap.
 * - **Degraded mode.** Without ZooKeeper every host keeps serving with its local workers and no leader anywhere; the member rejoins by
 *   itself. Each [connection] change is logged once.
 *
 * ```kotlin
 * val watcher = ClusterWatcher(config)
 * watcher.start(4)
 * val group = ZooKeeperMembership(watcher) { connect("zk1:2181,zk2:2181,zk3:2181"); group("shop") }
 * group.hosts.collect { println(it.map(GroupMember::id)) }
 * ```
 * ```java
 * ZooKeeperMembership group = ZooKeeperMembership.builder(watcher).connect("zk1:2181").group("shop").start();
 * group.onHosts(hosts -> System.out.println(hosts));
 * ```
 */
public interface ZooKeeperMembership : AutoCloseable {
    /** The group name. */
    public val group: String

    /** This member's node name, `<host>-<watcher pid>`. */
    public val memberId: String

    /** Every registered member, sorted by id; while disconnected, the last list seen. */
    public val hosts: StateFlow<List<GroupMember>>

    /** The link to ZooKeeper, updated on every change. */
    public val connection: StateFlow<GroupConnection>

    /** True while this watcher holds the group's leader latch (and so grants leadership to one of its workers). */
    public val isLeading: StateFlow<Boolean>

    /** Calls [listener] on a kcluster-owned thread with [hosts] now and on every change. */
    public fun onHosts(listener: Consumer<List<GroupMember>>): Registration

    /** Calls [listener] on a kcluster-owned thread with [connection] now and on every change. */
    public fun onConnection(listener: Consumer<GroupConnection>): Registration

    /** Revokes this host's leadership, leaves the group (the member node is deleted) and closes the ZooKeeper client. Idempotent. */
    override fun close()

    /**
     * Configures and starts a membership for one watcher. Only [connect] and [group] are required. Misconfiguration fails in [start] with
     * an [IllegalArgumentException] that names the fix.
     */
    public class Builder internal constructor(private val target: ClusterWatcher?) {
        internal val watcher: ClusterWatcher
            get() = checkNotNull(target) { "this builder only checks settings" }

        internal var connect: String? = null
        internal var group: String? = null
        internal var sessionTimeout: Duration = 15.seconds
        internal var connectionTimeout: Duration = 5.seconds
        internal var leadership: Boolean = true
        internal var credentials: ZooKeeperCredentials? = null
        internal var hostName: String? = null

        /** The ZooKeeper ensemble, `host:port[,host:port…][/chroot]`. */
        public fun connect(connectString: String): Builder = apply { connect = connectString }

        /** The group name: letters, digits, `.`, `_`, `-`. Every watcher of one cluster uses the same. */
        public fun group(name: String): Builder = apply { group = name }

        /** How long ZooKeeper keeps a silent member's session (default 15 s): the failover time after a host dies. */
        public fun sessionTimeout(timeout: Duration): Builder = apply { sessionTimeout = timeout }

        /** [sessionTimeout] for Java. */
        public fun sessionTimeout(timeout: java.time.Duration): Builder = sessionTimeout(timeout.toKotlinDuration())

        /** How long [start] waits for a first connection before it returns in degraded mode (default 5 s). */
        public fun connectionTimeout(timeout: Duration): Builder = apply { connectionTimeout = timeout }

        /** [connectionTimeout] for Java. */
        public fun connectionTimeout(timeout: java.time.Duration): Builder = connectionTimeout(timeout.toKotlinDuration())

        /** Whether this watcher takes part in the leader election (default true); false makes it a member only. */
        public fun leadership(enabled: Boolean): Builder = apply { leadership = enabled }

        /** Digest credentials; the group's nodes then get an ACL for this identity only. */
        public fun credentials(value: ZooKeeperCredentials?): Builder = apply { credentials = value }

        /** The host name to register (default: this machine's host name). */
        public fun hostName(name: String): Builder = apply { hostName = name }

        /**
         * Connects and joins. Waits up to the connection timeout for ZooKeeper: when it answers, the group's nodes are checked and the
         * member is registered before this returns; when it does not, this returns in degraded mode (logged) and joins later by itself.
         *
         * @throws IllegalArgumentException for a malformed connect string or group name.
         * @throws ZooKeeperGroupException when ZooKeeper refuses the credentials or access to the group's nodes.
         */
        @Throws(ZooKeeperGroupException::class) public fun start(): ZooKeeperMembership = start(null)

        @OptIn(InternalKclusterApi::class)
        internal fun start(host: GroupHost?): RealZooKeeperMembership {
            val (c, g) = validate()
            return RealZooKeeperMembership(this, c, g, host).also { it.start() }
        }

        internal fun validate(): Pair<String, String> {
            val c = requireNotNull(connect) { "ZooKeeperMembership needs connect(\"host:port,…\")" }
            val g = requireNotNull(group) { "ZooKeeperMembership needs group(\"name\")" }
            ConnectString.validate(c)
            require(g.isNotEmpty() && g.all { it.isLetterOrDigit() || it in "._-" } && g != "." && g != "..") {
                "group name '$g' may hold only letters, digits, '.', '_' and '-'"
            }
            require(sessionTimeout.isPositive() && connectionTimeout.isPositive()) { "timeouts must be positive" }
            return c to g
        }
    }

    public companion object {
        /** A builder for a membership of [watcher] (Java). */
        @JvmStatic public fun builder(watcher: ClusterWatcher): Builder = Builder(watcher)
    }
}

/** Starts a membership of [watcher] configured by [configure] (see [ZooKeeperMembership.Builder.start]). */
public fun ZooKeeperMembership(watcher: ClusterWatcher, configure: ZooKeeperMembership.Builder.() -> Unit): ZooKeeperMembership =
    ZooKeeperMembership.builder(watcher).apply(configure).start()
