package dev.kcluster.dsl

import dev.kcluster.ClusterWorker
import dev.kcluster.Message

/**
 * A message of type [T] from a worker, as an `onMessage<T>` handler gets it.
 *
 * @property worker the sender; `worker.send(…)` replies to it.
 * @property data the decoded value.
 * @property message the message as it came.
 */
public class ReceivedMessage<T> internal constructor(public val worker: ClusterWorker, public val data: T, public val message: Message) {
    override fun toString(): String = "ReceivedMessage(worker ${worker.id}, $data)"
}
