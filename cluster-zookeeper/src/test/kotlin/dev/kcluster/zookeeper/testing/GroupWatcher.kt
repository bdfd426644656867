package dev.kcluster.zookeeper.testing

import dev.kcluster.ClusterWatcher
import dev.kcluster.WatcherConfig
import dev.kcluster.zookeeper.ZooKeeperMembership
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * A watcher in its own JVM, a member of a group: args `CONNECT GROUP WORKERS PORT LOGFILE SESSION_MS [HOSTNAME]`. Starts WORKERS
 * LeaderWorkers, joins, prints "JOINED <pid> <connection> <member id>", then every change as a line: `CONNECTION <state>`, `HOSTS <member
 * id>…`, `LEADING <bool>`; runs until killed.
 */
object GroupWatcher {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val (connect, group, workers, port, logFile, sessionMs) = args
        val watcher =
            ClusterWatcher(
                WatcherConfig(LeaderWorker::class.java.name) {
                    jvmOptions(TEST_JVM)
                    args(port, logFile)
                }
            )
        watcher.start(workers.toInt())
        val membership =
            ZooKeeperMembership(watcher) {
                connect(connect)
                group(group)
                sessionTimeout(sessionMs.toLong().milliseconds)
                connectionTimeout(5.seconds)
                args.getOrNull(6)?.let { hostName(it) }
            }
        println("JOINED ${ProcessHandle.current().pid()} ${membership.connection.value} ${membership.memberId}")
        System.out.flush()
        fun <T> report(flow: Flow<T>, line: (T) -> String) = launch {
            flow.distinctUntilChanged().collect {
                println(line(it))
                System.out.flush()
            }
        }
        report(membership.connection) { "CONNECTION $it" }
        report(membership.hosts.map { h -> h.map { it.id } }) { "HOSTS ${it.joinToString(" ")}".trim() }
        report(membership.isLeading) { "LEADING $it" }
        Runtime.getRuntime()
            .addShutdownHook(
                Thread {
                    membership.close()
                    watcher.close()
                }
            )
        watcher.awaitTermination()
        Unit
    }
}

private operator fun <T> Array<T>.component6(): T = this[5]
