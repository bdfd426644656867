package dev.kcluster.logging

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import org.slf4j.LoggerFactory

private class Hostile {
    override fun toString(): String = throw Worse()
}

private class Worse : RuntimeException() {
    override fun toString(): String = throw Worse()

    override val message: String
        get() = throw Worse()
}

/** Logging never throws into the caller, through the public SLF4J API of kcluster's backend. */
class HostileLoggingTest :
    FunSpec({
        test("hostile arguments, throwables and a null logger name are written with a note, not thrown") {
            val dir = Files.createTempDirectory("kcluster-hostile")
            try {
                val file = dir.resolve("h.log")
                ClusterLog.setFile(file.toString())
                val log = LoggerFactory.getLogger(null as String?)
                log.info("arg {}", Hostile())
                log.warn("arrays {} {}", arrayOf<Any?>(Hostile(), null), intArrayOf(1, 2))
                val cycle =
                    object : RuntimeException("cyclic") {
                        override val cause: Throwable
                            get() = this
                    }
                log.error("throwables", Worse().apply { addSuppressed(cycle) })
                val text = Files.readString(file)
                text shouldContain
                    "[main] null - arg [dev.kcluster.logging.Hostile.toString() failed: dev.kcluster.logging.Worse [toString() and getMessage() failed]]\n"
                text shouldContain "arrays [[dev.kcluster.logging.Hostile.toString() failed"
                text shouldContain "[1, 2]\n"
                text shouldContain "throwables\ndev.kcluster.logging.Worse [toString() and getMessage() failed]\n\tat "
                text shouldContain "\tCaused by: [CIRCULAR REFERENCE: "
            } finally {
                ClusterLog.setFile(null)
                dir.toFile().deleteRecursively()
            }
        }
    })
