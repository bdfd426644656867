package dev.kcluster.zookeeper.internal

import dev.kcluster.GroupMember
import dev.kcluster.MemberWorker
import kotlinx.serialization.Serializable

/** A member node's JSON (`/kcluster/<group>/members/<id>`): the wire form of [GroupMember]. */
@Serializable
internal data class MemberNode(
    val id: String,
    val host: String,
    val pid: Long,
    val phase: String,
    val workers: List<WorkerNode>,
    val addresses: List<String>,
    val startedAtMillis: Long,
    val leaderWorker: Int? = null,
    val leaderEpoch: Long = 0,
) {
    fun toMember() =
        GroupMember(
            id,
            host,
            pid,
            phase,
            workers.map { MemberWorker(it.slot, it.id, it.pid, it.state) },
            addresses,
            startedAtMillis,
            leaderWorker,
            leaderEpoch,
        )
}

/** One worker in a [MemberNode]. */
@Serializable internal data class WorkerNode(val slot: Int, val id: Int, val pid: Long, val state: String)
