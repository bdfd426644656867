package dev.kcluster.zookeeper.testing

import dev.kcluster.ClusterWatcher
import dev.kcluster.WatcherConfig
import dev.kcluster.zookeeper.ZooKeeperMembership
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking

/**
 * A watcher in its own JVM, a member of a group: args `CONNECT GROUP WORKERS PORT LOGFILE SESSION_MS`. Starts WORKERS LeaderWorkers, joins,
 * prints "JOINED <pid>", and runs until killed.
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
            }
        println("JOINED ${ProcessHandle.current().pid()} ${membership.connection.value}")
        System.out.flush()
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
