package dev.kcluster.dsl.testing

import dev.kcluster.dsl.ClusterSpec
import dev.kcluster.dsl.cluster
import java.nio.ByteBuffer
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.serialization.Serializable

/** What every worker says first. */
@Serializable data class Hello(val id: Int, val pid: Long, val standalone: Boolean)

/**
 * A `cluster { }` program for tests, run both as a real `main` (in a spawned JVM) and in-process through [configure]. Args: `workers N`;
 * `finish` makes the worker block return right after hello; `fail-child` makes a launched coroutine throw; `stubborn` makes a worker that
 * was told to stop say `refusing to stop` and never finish (for forced stops). Watcher-side handlers print `HELLO id pid standalone`, `ECHO
 * text`, `STARTED pid,pid`, `EXIT id expected`.
 */
object DslTestApp {
    @JvmStatic fun main(args: Array<String>) = cluster(args) { configure(this) }

    fun configure(spec: ClusterSpec) =
        with(spec) {
            val n = args.indexOf("workers").takeIf { it >= 0 }?.let { args[it + 1].toInt() } ?: 2
            workers(n)
            jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
            restart {
                rolling()
                readyTimeout(60.seconds)
                stopTimeout(20.seconds)
            }
            timeouts { start(60.seconds) }
            onMessage<Hello> { msg -> println("HELLO ${msg.data.id} ${msg.data.pid} ${msg.data.standalone}") }
            onMessage<String> { msg -> println("ECHO ${msg.data}") }
            onStarted { println("STARTED " + workers.joinToString(",") { it.pid.toString() }) }
            onWorkerExit { w, reason -> println("EXIT ${w.id} ${reason.expected}") }
            worker {
                val server = serverSocket("127.0.0.1:0")
                launch(Dispatchers.IO) {
                    while (true) {
                        val c = runCatching { server.accept() }.getOrNull() ?: break
                        c.use { it.write(ByteBuffer.wrap("worker $workerId\n".toByteArray())) }
                    }
                }
                launch { incoming.collect { m -> send("echo:${m.asString()} from $workerId") } }
                send(Hello(workerId, ProcessHandle.current().pid(), isStandalone))
                if ("fail-child" in args) launch { error("child boom in worker $workerId") }
                if ("finish" in args) return@worker
                awaitTermination()
                if ("stubborn" in args) {
                    send("refusing to stop $workerId")
                    while (true) java.util.concurrent.locks.LockSupport.park()
                }
                log.info("worker {} stopping", workerId)
            }
        }
}
