package dev.kcluster.zookeeper.testing

import dev.kcluster.ClusterWatcher
import dev.kcluster.GroupConfig
import dev.kcluster.Message
import dev.kcluster.WatcherConfig
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking

/**
 * A watcher in its own JVM that joins its group through `WatcherConfig.group` (the extension path): args `CONNECT GROUP WORKERS PORT
 * MSGLOG`. Starts WORKERS [BroadcastWorker]s, prints `JOINED <pid>`, then answers commands on stdin, one line each:
 * - `HOSTS` → `HOSTS <n>` (members it sees);
 * - `BROADCAST <text>` → `SENT <hosts>` or `ERROR <class>: <message>`;
 * - `SIZE <n>` → a broadcast of n raw bytes: `SENT …` or `ERROR …`;
 * - `BURST <n>` → n broadcasts at once: `BURST sent=<k>` and the first error, `ERROR …`, or `none`;
 * - `ME` → `ME <member id>`;
 * - `RESTARTALL` → `RESTARTALL <member>=<outcome>,…` in the order they finished, or `ERROR …`.
 */
object GroupHost {
    @JvmStatic
    fun main(args: Array<String>) = runBlocking {
        val (connect, group, workers, port, msgLog) = args
        val watcher =
            ClusterWatcher(
                WatcherConfig(BroadcastWorker::class.java.name) {
                    jvmOptions(TEST_JVM)
                    args(port, msgLog)
                    group(
                        GroupConfig(connect, group) {
                            sessionTimeout(4.seconds)
                            connectionTimeout(5.seconds)
                        }
                    )
                }
            )
        Runtime.getRuntime().addShutdownHook(Thread { watcher.close() })
        watcher.start(workers.toInt())
        println("JOINED ${ProcessHandle.current().pid()}")
        System.out.flush()
        fun attempt(m: Message): String =
            try {
                "SENT ${watcher.broadcast(m, allHosts = true)}"
            } catch (e: Exception) {
                "ERROR ${e.javaClass.simpleName}: ${e.message}"
            }
        while (true) {
            val line = readlnOrNull() ?: break
            val word = line.substringBefore(' ')
            val rest = line.substringAfter(' ', "")
            val answer =
                when (word) {
                    "HOSTS" -> "HOSTS ${watcher.hosts.value.size}"
                    "ME" -> "ME ${watcher.hosts.value.first { it.pid == ProcessHandle.current().pid() }.id}"
                    "RESTARTALL" ->
                        try {
                            "RESTARTALL " + watcher.restartAllHosts().joinToString(",") { "${it.member}=${it.outcome}" }
                        } catch (e: Exception) {
                            "ERROR ${e.javaClass.simpleName}: ${e.message}"
                        }
                    "BROADCAST" -> attempt(Message.ofString(rest))
                    "SIZE" -> attempt(Message.ofBytes(ByteArray(rest.toInt())))
                    "BURST" -> {
                        var sent = 0
                        var error: String? = null
                        repeat(rest.toInt()) { i ->
                            if (error != null) return@repeat
                            val a = attempt(Message.ofString("burst-$i"))
                            if (a.startsWith("SENT")) sent++ else error = a
                        }
                        "BURST sent=$sent ${error ?: "none"}"
                    }
                    else -> "ERROR unknown command $line"
                }
            println(answer)
            System.out.flush()
        }
        watcher.stop()
    }
}
