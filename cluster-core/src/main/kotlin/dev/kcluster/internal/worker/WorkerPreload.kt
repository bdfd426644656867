package dev.kcluster.internal.worker

import dev.kcluster.InternalKclusterApi
import java.util.ServiceLoader
import java.util.concurrent.TimeUnit
import org.slf4j.LoggerFactory

/**
 * What a module on a worker's classpath initialises ahead of the program (found with [ServiceLoader]; `cluster-netty` initialises Netty's
 * static state). [WorkerMain] runs every preload on one background thread while it connects to the watcher and proves itself, and waits for
 * them before it calls the program's `main`, so a preload overlaps the connection (junixsocket's initialisation and the handshake) and
 * never runs beside the program: no class initialisation of the program's can race it. `-Dkcluster.preload=false` turns it off.
 */
@InternalKclusterApi
public interface WorkerPreload {
    /** Initialises classes the program will need anyway; no threads, no I/O beyond the classpath. Exceptions are ignored. */
    public fun preload()
}

/** The preload thread of one worker start. */
internal class WorkerPreloads private constructor(private val thread: Thread?) {
    /** Waits until every preload has finished, at most [timeoutMillis] (a stuck preload must not stop the worker: main goes on). */
    fun await(timeoutMillis: Long = WAIT_MILLIS) {
        thread?.join(timeoutMillis)
    }

    companion object {
        const val PROPERTY = "kcluster.preload"
        const val THREAD_NAME = "kcluster-preload"
        private val WAIT_MILLIS = TimeUnit.SECONDS.toMillis(5)

        /**
         * Starts the preloads on a daemon thread, unless [PROPERTY] is `false`. SLF4J is bound first, on the calling thread: it binds its
         * provider on first use, and a logger asked for on another thread meanwhile is a stand-in whose records are replayed or dropped,
         * with a warning on stderr ("substitute loggers"). Netty logs as its classes initialise, and the worker's own connection code asks
         * for loggers, so with both threads running, half of the starts measured printed that warning.
         */
        fun start(): WorkerPreloads {
            if (System.getProperty(PROPERTY) == "false") return WorkerPreloads(null)
            runCatching { LoggerFactory.getILoggerFactory() }
            val t =
                Thread(
                    {
                        runCatching {
                            val loader = WorkerPreload::class.java.classLoader
                            for (p in ServiceLoader.load(WorkerPreload::class.java, loader)) runCatching { p.preload() }
                        }
                    },
                    THREAD_NAME,
                )
            t.isDaemon = true
            t.start()
            return WorkerPreloads(t)
        }
    }
}
