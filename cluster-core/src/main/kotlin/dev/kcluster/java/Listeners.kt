package dev.kcluster.java

import java.util.concurrent.ExecutorService
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.ThreadPoolExecutor
import java.util.concurrent.TimeUnit
import org.slf4j.LoggerFactory

/** Calls user listeners, logging (never propagating) what they throw. */
internal object Listeners {
    private val log = LoggerFactory.getLogger("dev.kcluster.java")

    fun <T> deliver(what: String, value: T, call: (T) -> Unit) {
        try {
            call(value)
        } catch (e: Throwable) {
            if (e is VirtualMachineError) throw e
            log.error("a {} listener threw on {}; it stays registered", what, value, e)
        }
    }

    /** One kcluster-owned daemon thread, created on demand and gone after 10 idle seconds; keeps listener calls in order. */
    fun thread(name: String): ExecutorService =
        ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS, LinkedBlockingQueue()) { r -> Thread(r, name).apply { isDaemon = true } }
            .apply { allowCoreThreadTimeOut(true) }
}
