package dev.kcluster.samples.dsl

import dev.kcluster.dsl.cluster
import java.nio.channels.Channels
import java.nio.channels.SocketChannel
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.launch
import kotlinx.coroutines.runInterruptible
import kotlinx.serialization.Serializable

/** What a worker reports per batch of 100 requests. */
@Serializable public data class Batch(val worker: Int, val total: Long)

/**
 * A TCP line-echo service on the cluster's shared socket, as a `cluster { }` program: the same main is the watcher and every worker. Usage:
 * `DslTcpService [host:port] [--standalone]`.
 */
public fun main(commandLine: Array<String>): Unit =
    cluster(commandLine) {
        val address = args.firstOrNull() ?: "127.0.0.1:9091" // args: the command line without --standalone
        workers(2)
        onMessage<Batch> { msg -> log.info("worker {} (pid {}) has served {} requests", msg.data.worker, msg.worker.pid, msg.data.total) }
        onWorkerExit { w, reason -> log.info("worker {} exited: {}", w.id, reason) }
        onStarted { log.info("{} workers listening on {}", workers.size, listeningAddresses) }
        worker {
            val server = serverSocket(address) // shared by all workers; makes this one READY
            val served = AtomicLong()
            launch {
                while (true) {
                    val client = runInterruptible { server.accept() }
                    launch {
                        runInterruptible { echo(client) { if (served.incrementAndGet() % 100 == 0L) send(Batch(workerId, served.get())) } }
                    }
                }
            }
            awaitTermination() // returning closes the socket and cancels the coroutines above
        }
    }

private fun echo(client: SocketChannel, onRequest: () -> Unit) =
    client.use {
        val out = Channels.newOutputStream(it)
        Channels.newInputStream(it).bufferedReader().lineSequence().forEach { line ->
            out.write("$line\n".toByteArray())
            onRequest()
        }
    }
