package dev.kcluster

import java.nio.file.Path
import java.time.Duration
import kotlin.time.toJavaDuration

/**
 * Makes a watcher one member of a group of watchers on several hosts ([WatcherConfig.group]): the watchers register with ZooKeeper, see
 * each other in [ClusterWatcher.hosts], keep one worker of the whole group the leader (`Cluster.leadership`), and can act on every host
 * ([ClusterWatcher.broadcast] with `allHosts`, [ClusterWatcher.restartAllHosts]). Needs the `cluster-zookeeper` module on the watcher's
 * classpath; `start()` fails naming it otherwise. Core itself does not depend on ZooKeeper.
 *
 * ```kotlin
 * WatcherConfig("com.example.Server") { group(GroupConfig("zk1:2181,zk2:2181", "shop") { credentialsFile(Path.of("/etc/shop/zk.auth")) }) }
 * ```
 * ```java
 * WatcherConfig.builder("com.example.Server").group(GroupConfig.builder("zk1:2181", "shop").sessionTimeout(Duration.ofSeconds(10)).build())
 * ```
 */
public class GroupConfig private constructor(b: Builder) {
    /** The ZooKeeper ensemble, `host:port[,host:port…][/chroot]`. */
    public val connect: String = b.connect

    /** The group name: letters, digits, `.`, `_`, `-`; every watcher of one cluster uses the same. */
    public val name: String = b.name

    /** How long ZooKeeper keeps a silent member's session: the failover time after a host dies (default 15 s). */
    public val sessionTimeout: Duration = b.sessionTimeout

    /** How long `start()` waits for a first connection before it goes on in degraded mode (default 5 s). */
    public val connectionTimeout: Duration = b.connectionTimeout

    /** A file holding digest credentials `user:password` (mode 600), or null. */
    public val credentialsFile: Path? = b.credentialsFile

    /** An environment variable holding `user:password` (used when [credentialsFile] is null), or null for no credentials. */
    public val credentialsVariable: String? = b.credentialsVariable

    /** Whether this watcher takes part in the leader election (default true). */
    public val leadership: Boolean = b.leadership

    /** The host name to register, or null for this machine's. */
    public val hostName: String? = b.hostName

    override fun toString(): String = "GroupConfig($name at $connect)"

    /** Builds a [GroupConfig]; every setter returns the builder. Values are checked by the group module when the watcher starts. */
    public class Builder internal constructor(internal val connect: String, internal val name: String) {
        internal var sessionTimeout: Duration = Duration.ofSeconds(15)
        internal var connectionTimeout: Duration = Duration.ofSeconds(5)
        internal var credentialsFile: Path? = null
        internal var credentialsVariable: String? = null
        internal var leadership: Boolean = true
        internal var hostName: String? = null

        /** The session timeout (see [GroupConfig.sessionTimeout]). */
        public fun sessionTimeout(timeout: Duration): Builder = apply { sessionTimeout = timeout }

        /** [sessionTimeout] for Kotlin. */
        public fun sessionTimeout(timeout: kotlin.time.Duration): Builder = sessionTimeout(timeout.toJavaDuration())

        /** The connection timeout (see [GroupConfig.connectionTimeout]). */
        public fun connectionTimeout(timeout: Duration): Builder = apply { connectionTimeout = timeout }

        /** [connectionTimeout] for Kotlin. */
        public fun connectionTimeout(timeout: kotlin.time.Duration): Builder = connectionTimeout(timeout.toJavaDuration())

        /** Reads digest credentials from [file] (`user:password`, not readable by group or others); null for none. */
        public fun credentialsFile(file: Path?): Builder = apply { credentialsFile = file }

        /** Reads digest credentials from the environment variable [name] (default `KCLUSTER_ZK_AUTH`), which must then be set. */
        @JvmOverloads
        public fun credentialsFromEnvironment(name: String = CREDENTIALS_VARIABLE): Builder = apply { credentialsVariable = name }

        /** Whether this watcher takes part in the leader election (default true); false makes it a member only. */
        public fun leadership(enabled: Boolean): Builder = apply { leadership = enabled }

        /** The host name to register (default: this machine's host name). */
        public fun hostName(name: String): Builder = apply { hostName = name }

        /** @throws IllegalArgumentException when the connect string or the name is blank, or a timeout is not positive. */
        public fun build(): GroupConfig {
            require(connect.isNotBlank()) { "group: the ZooKeeper connect string must not be blank" }
            require(name.isNotBlank()) { "group: the group name must not be blank" }
            require(!sessionTimeout.isNegative && !sessionTimeout.isZero) { "group: sessionTimeout must be positive, was $sessionTimeout" }
            require(!connectionTimeout.isNegative && !connectionTimeout.isZero) {
                "group: connectionTimeout must be positive, was $connectionTimeout"
            }
            return GroupConfig(this)
        }
    }

    public companion object {
        /** The default environment variable for [Builder.credentialsFromEnvironment]. */
        public const val CREDENTIALS_VARIABLE: String = "KCLUSTER_ZK_AUTH"

        /** The largest payload of a cluster-wide broadcast ([ClusterWatcher.broadcast] with `allHosts`): 64 KiB. */
        public const val MAX_BROADCAST_BYTES: Int = 64 * 1024

        /** How many cluster-wide broadcasts one watcher may send per second, sustained ([BROADCAST_BURST] at once). */
        public const val BROADCASTS_PER_SECOND: Int = 10

        /** How many cluster-wide broadcasts one watcher may send at once before [BROADCASTS_PER_SECOND] applies. */
        public const val BROADCAST_BURST: Int = 20

        /** A builder for the group [name] over the ZooKeeper ensemble [connect] (Java). */
        @JvmStatic public fun builder(connect: String, name: String): Builder = Builder(connect, name)
    }
}

/** Builds a [GroupConfig] for the group [name] over the ZooKeeper ensemble [connect]. */
public fun GroupConfig(connect: String, name: String, configure: GroupConfig.Builder.() -> Unit = {}): GroupConfig =
    GroupConfig.builder(connect, name).apply(configure).build()
