package dev.kcluster.zookeeper.internal

import dev.kcluster.ClusterEvent
import dev.kcluster.ClusterWatcher
import dev.kcluster.GroupMember
import dev.kcluster.HostRestart
import dev.kcluster.InternalKclusterApi
import dev.kcluster.Message
import dev.kcluster.MessageCodec
import dev.kcluster.internal.group.GroupHost
import dev.kcluster.internal.group.GroupSession
import dev.kcluster.java.Registration
import dev.kcluster.zookeeper.GroupConnection
import dev.kcluster.zookeeper.ZooKeeperGroupException
import dev.kcluster.zookeeper.ZooKeeperMembership
import java.net.InetAddress
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.function.Consumer
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull
import kotlinx.serialization.json.Json
import org.apache.curator.framework.CuratorFramework
import org.apache.curator.framework.CuratorFrameworkFactory
import org.apache.curator.framework.recipes.cache.CuratorCache
import org.apache.curator.framework.recipes.cache.CuratorCacheListener
import org.apache.curator.framework.state.ConnectionState
import org.apache.curator.framework.state.ConnectionStateListener
import org.apache.curator.retry.BoundedExponentialBackoffRetry
import org.apache.zookeeper.CreateMode
import org.apache.zookeeper.KeeperException
import org.apache.zookeeper.data.Stat
import org.slf4j.LoggerFactory

/**
 * The membership of one watcher: its member node, the members cache, the connection state, its [LeaderRole], and the cluster-wide actions
 * ([Broadcasts], [Reloads]). [host] is the watcher's side when it joined through `WatcherConfig.group`; a membership started directly
 * delivers broadcasts with [ClusterWatcher.broadcast] and restarts with [ClusterWatcher.restart].
 */
@OptIn(InternalKclusterApi::class)
internal class RealZooKeeperMembership(
    b: ZooKeeperMembership.Builder,
    private val connect: String,
    override val group: String,
    private val host: GroupHost? = null,
) : ZooKeeperMembership, GroupSession {
    private val log = LoggerFactory.getLogger(ZooKeeperMembership::class.java)
    private val watcher: ClusterWatcher = b.watcher
    private val hostName = b.hostName ?: runCatching { InetAddress.getLocalHost().hostName }.getOrDefault("localhost")
    private val pid = ProcessHandle.current().pid()
    override val memberId: String = "$hostName-$pid"
    private val paths = GroupPaths(group)
    private val credentials = b.credentials
    private val connectionTimeout = b.connectionTimeout
    private val startedAt = System.currentTimeMillis()
    private val json = Json { ignoreUnknownKeys = true }

    private val client: CuratorFramework =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(b.sessionTimeout.inWholeMilliseconds.toInt())
            .connectionTimeoutMs(b.connectionTimeout.inWholeMilliseconds.toInt())
            .retryPolicy(BoundedExponentialBackoffRetry(100, 1_000, 3))
            .aclProvider(GroupAcls(paths, credentials))
            .apply { credentials?.let { authorization("digest", it.auth) } }
            .build()

    private val thread = Executors.newSingleThreadExecutor { r -> Thread(r, "kcluster-zookeeper-$group").apply { isDaemon = true } }
    private val scope = CoroutineScope(SupervisorJob() + thread.asCoroutineDispatcher())
    private val listenerThread =
        Executors.newSingleThreadExecutor { r -> Thread(r, "kcluster-zookeeper-listeners").apply { isDaemon = true } }
    private val listenerScope = CoroutineScope(SupervisorJob() + listenerThread.asCoroutineDispatcher())
    private val kick = Channel<Unit>(Channel.CONFLATED)
    private val epochs = EpochCounter(client, paths.epoch)
    private val leader: LeaderRole? =
        if (b.leadership) LeaderRole(client, paths.leader, memberId, watcher, epochs, log) { kick.trySend(Unit) } else null

    private val hostsState = MutableStateFlow<List<GroupMember>>(emptyList())
    private val broadcasts =
        Broadcasts(client, paths.broadcasts, memberId, log) { type, body ->
            if (host != null) host.deliver(type, body) else watcher.broadcast(Message.of(body, rawCodec(type)))
        }
    private val reloads = Reloads(client, paths, memberId, log, hostsState) { host?.restartHost() ?: watcher.restart() }
    override val hosts: StateFlow<List<GroupMember>>
        get() = hostsState

    private val connectionState = MutableStateFlow(GroupConnection.CONNECTING)
    override val connection: StateFlow<GroupConnection>
        get() = connectionState

    override val isLeading: StateFlow<Boolean> = leader?.leading ?: MutableStateFlow(false)

    @Volatile private var prepared = false
    @Volatile private var nodeWritten: String? = null // the data last written, null when the node must be (re)created
    private var cache: CuratorCache? = null
    private var lastProblem: String? = null

    private val connectionListener = ConnectionStateListener { _, s ->
        when (s) {
            ConnectionState.CONNECTED,
            ConnectionState.RECONNECTED -> {
                nodeWritten = null
                leader?.connected()
                changeConnection(GroupConnection.CONNECTED)
                kick.trySend(Unit)
                broadcasts.connected()
                reloads.connected()
            }
            ConnectionState.SUSPENDED,
            ConnectionState.READ_ONLY -> {
                leader?.suspend("ZooKeeper connection suspended")
                changeConnection(GroupConnection.SUSPENDED)
            }
            ConnectionState.LOST -> {
                leader?.suspend("ZooKeeper session lost")
                nodeWritten = null
                changeConnection(GroupConnection.LOST)
            }
            else -> {}
        }
    }

    fun start() {
        client.connectionStateListenable.addListener(connectionListener)
        client.start()
        val connected = client.blockUntilConnected(connectionTimeout.inWholeMilliseconds.toInt(), TimeUnit.MILLISECONDS)
        if (connected) {
            try {
                prepare()
            } catch (e: Exception) {
                close()
                throw e
            }
        } else {
            log.warn(
                "ZooKeeper {} did not answer within {}: serving with local workers only (degraded mode, no leader); joining group {} when it answers",
                connect,
                connectionTimeout,
                group,
            )
        }
        val c = CuratorCache.build(client, paths.members)
        c.listenable()
            .addListener(CuratorCacheListener.builder().forAll { _, _, _ -> refreshHosts() }.forInitialized { refreshHosts() }.build())
        cache = c
        c.start()
        scope.launch { watcher.state.collect { kick.trySend(Unit) } }
        scope.launch {
            watcher.events.collect { e -> if (e is ClusterEvent.WorkerExited || e is ClusterEvent.WorkerReady) kick.trySend(Unit) }
        }
        scope.launch { syncLoop() }
        scope.launch { cleanLoop() }
        host?.let { h -> listenerScope.launch { hostsState.collect { h.hosts(it) } } }
        kick.trySend(Unit)
        if (connected)
            runCatching {
                kotlinx.coroutines.runBlocking { withTimeoutOrNull(connectionTimeout) { while (nodeWritten == null) delay(10) } }
            }
    }

    /** One loop does every ZooKeeper write, in order: the member node and the leadership grant. */
    private suspend fun syncLoop() {
        for (u in kick) {
            if (connectionState.value != GroupConnection.CONNECTED) continue
            try {
                if (!prepared) prepare()
                leader?.reconcile()
                writeMember()
                lastProblem = null
            } catch (e: Exception) {
                val problem = describe(e)
                if (problem != lastProblem) log.error("group {}: {}; retrying", group, problem)
                lastProblem = problem
                scope.launch {
                    delay(1_000)
                    kick.trySend(Unit)
                }
            }
        }
    }

    /** Creates the group's nodes and proves access to them; a refusal is a [ZooKeeperGroupException]. */
    private fun prepare() {
        try {
            try {
                client.create().creatingParentsIfNeeded().forPath(paths.members)
            } catch (_: KeeperException.NodeExistsException) {}
            client.children.forPath(paths.members)
            epochs.ensure()
            for (p in listOf(paths.broadcasts, paths.reloads)) {
                try {
                    client.create().forPath(p)
                } catch (_: KeeperException.NodeExistsException) {}
            }
            broadcasts.start()
            reloads.start()
        } catch (e: KeeperException.NoAuthException) {
            throw ZooKeeperGroupException(describe(e), e)
        } catch (e: KeeperException.AuthFailedException) {
            throw ZooKeeperGroupException(describe(e), e)
        }
        prepared = true
    }

    private fun describe(e: Exception): String =
        when (e) {
            is KeeperException.NoAuthException,
            is KeeperException.AuthFailedException,
            is ZooKeeperGroupException ->
                "ZooKeeper refused access to ${paths.root} " +
                    (credentials?.let { "for digest user '${it.user}': wrong password, or the group belongs to other credentials" }
                        ?: "without credentials: the group's nodes have an ACL; give credentials (file or KCLUSTER_ZK_AUTH)")
            else -> e.toString()
        }

    private fun writeMember() {
        val data = json.encodeToString(MemberNode.serializer(), me())
        if (data == nodeWritten) return
        val path = paths.member(memberId)
        val bytes = data.encodeToByteArray()
        if (nodeWritten != null) {
            try {
                client.setData().forPath(path, bytes)
            } catch (_: KeeperException.NoNodeException) { // the session ended before we heard of it: create it again
                nodeWritten = null
                return writeMember()
            }
        } else {
            val session = client.zookeeperClient.zooKeeper.sessionId
            try {
                client.create().withMode(CreateMode.EPHEMERAL).forPath(path, bytes)
            } catch (_: KeeperException.NodeExistsException) {
                val stat = Stat()
                client.data.storingStatIn(stat).forPath(path)
                if (stat.ephemeralOwner == session) client.setData().forPath(path, bytes)
                else { // left over from an earlier session of this process
                    client.delete().withVersion(stat.version).forPath(path)
                    client.create().withMode(CreateMode.EPHEMERAL).forPath(path, bytes)
                }
            }
            log.info("joined group {} as {}", group, memberId)
        }
        nodeWritten = data
    }

    private fun me(): MemberNode {
        val s = watcher.state.value
        val g = leader?.grant
        return MemberNode(
            id = memberId,
            host = hostName,
            pid = pid,
            phase = s.phase.name,
            workers = s.workers.map { WorkerNode(it.slot, it.id, it.pid, it.state.name) },
            addresses = watcher.listeningAddresses.map { "${it.hostString}:${it.port}" },
            startedAtMillis = startedAt,
            leaderWorker = g?.worker?.id,
            leaderEpoch = g?.epoch ?: 0,
        )
    }

    private fun refreshHosts() {
        val c = cache ?: return
        val prefix = paths.members + "/"
        hostsState.value =
            c.stream()
                .filter { it.path.startsWith(prefix) && it.path.indexOf('/', prefix.length) < 0 }
                .toList()
                .mapNotNull { d ->
                    runCatching { json.decodeFromString(MemberNode.serializer(), d.data.decodeToString()).toMember() }.getOrNull()
                }
                .sortedBy { it.id }
    }

    private fun changeConnection(to: GroupConnection) {
        val from = connectionState.value
        if (from == to || from == GroupConnection.CLOSED) return
        connectionState.value = to
        when (to) {
            GroupConnection.CONNECTED -> log.info("ZooKeeper connected ({}); group {}", connect, group)
            GroupConnection.SUSPENDED ->
                log.warn("ZooKeeper connection suspended: this host's leadership is revoked; serving with local workers (degraded mode)")
            GroupConnection.LOST ->
                log.warn(
                    "ZooKeeper session lost: serving with local workers (degraded mode); rejoining group {} when ZooKeeper answers",
                    group,
                )
            else -> {}
        }
    }

    override fun onHosts(listener: Consumer<List<GroupMember>>): Registration = listen(hosts, listener)

    override fun onConnection(listener: Consumer<GroupConnection>): Registration = listen(connection, listener)

    private fun <T> listen(flow: StateFlow<T>, listener: Consumer<T>): Registration {
        val job =
            listenerScope.launch {
                flow.collect { v ->
                    try {
                        listener.accept(v)
                    } catch (e: Exception) {
                        log.error("a group listener threw on {}; it stays registered", v, e)
                    }
                }
            }
        return Registration { job.cancel() }
    }

    override fun broadcast(type: String, body: ByteArray): Int {
        check(connectionState.value == GroupConnection.CONNECTED) {
            "ZooKeeper is not connected (${connectionState.value.name.lowercase()}, degraded mode): the cluster-wide broadcast was not sent"
        }
        broadcasts.send(type, body)
        return hostsState.value.size.coerceAtLeast(1)
    }

    override suspend fun restartAllHosts(): List<HostRestart> {
        check(connectionState.value == GroupConnection.CONNECTED) {
            "ZooKeeper is not connected (${connectionState.value.name.lowercase()}, degraded mode): no host was restarted"
        }
        check(watcher.state.value.phase == dev.kcluster.ClusterState.Phase.RUNNING) {
            "cannot restart all hosts: this watcher is not running"
        }
        return reloads.restartAll()
    }

    /**
     * Every [CLEAN_MILLIS], the member that cleans (the leading watcher; without one, the first member) deletes old broadcasts and runs.
     */
    private suspend fun cleanLoop() {
        while (true) {
            delay(CLEAN_MILLIS)
            if (connectionState.value != GroupConnection.CONNECTED) continue
            val members = hostsState.value
            val cleaner = isLeading.value || (members.none { it.leaderWorker != null } && members.firstOrNull()?.id == memberId)
            if (!cleaner) continue
            try {
                broadcasts.clean()
                reloads.clean()
            } catch (e: Exception) {
                log.debug("cleaning old broadcasts and restarts: {}", e.toString())
            }
        }
    }

    override fun close() {
        if (connectionState.value == GroupConnection.CLOSED) return
        connectionState.value = GroupConnection.CLOSED
        broadcasts.close()
        reloads.close()
        scope.cancel()
        leader?.close()
        if (nodeWritten != null) runCatching { client.delete().forPath(paths.member(memberId)) }
        runCatching { cache?.close() }
        client.close()
        listenerScope.cancel()
        thread.shutdown()
        listenerThread.shutdown()
    }
}

private const val CLEAN_MILLIS = 30_000L

/** Delivers a broadcast's bytes under their original type name (for a membership started without `WatcherConfig.group`). */
private fun rawCodec(type: String): MessageCodec<ByteArray> =
    object : MessageCodec<ByteArray> {
        override val type = type

        override fun encode(value: ByteArray) = value

        override fun decode(bytes: ByteArray) = bytes
    }
