package dev.kcluster.zookeeper.testing

import dev.kcluster.dsl.cluster
import java.io.File

/** A DSL program whose workers append `GRANT|REVOKE <epoch>` to args[0] from `onLeadership { }`. */
object DslLeaderProgram {
    @JvmStatic
    fun main(args: Array<String>) =
        cluster(args) {
            workers(1)
            worker {
                val log = File(this.args[0])
                ready()
                onLeadership { l -> log.appendText("${if (l.isLeader) "GRANT" else "REVOKE"} ${l.epoch} $workerId\n") }
                awaitTermination()
            }
        }
}
