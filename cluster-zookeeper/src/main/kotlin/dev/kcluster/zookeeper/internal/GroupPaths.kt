package dev.kcluster.zookeeper.internal

import dev.kcluster.zookeeper.ZooKeeperCredentials
import org.apache.curator.framework.api.ACLProvider
import org.apache.zookeeper.ZooDefs
import org.apache.zookeeper.data.ACL
import org.apache.zookeeper.data.Id
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider

/** Where a group lives: `/kcluster/<group>/{members,leader,epoch,broadcasts,reloads,reload-lock}`. */
internal class GroupPaths(group: String) {
    val root = "/kcluster/$group"
    val members = "$root/members"
    val leader = "$root/leader"
    val epoch = "$root/epoch"
    val broadcasts = "$root/broadcasts"
    val reloads = "$root/reloads"
    val reloadLock = "$root/reload-lock"

    fun member(id: String) = "$members/$id"
}

/** With credentials, the group's nodes are for that digest identity only; `/kcluster` itself stays open for other groups. */
internal class GroupAcls(private val paths: GroupPaths, credentials: ZooKeeperCredentials?) : ACLProvider {
    private val acl: List<ACL> =
        credentials?.let {
            listOf(ACL(ZooDefs.Perms.ALL, Id("digest", DigestAuthenticationProvider.generateDigest("${it.user}:${it.password}"))))
        } ?: ZooDefs.Ids.OPEN_ACL_UNSAFE

    override fun getDefaultAcl(): List<ACL> = acl

    override fun getAclForPath(path: String): List<ACL> =
        if (path == paths.root || path.startsWith(paths.root + "/")) acl else ZooDefs.Ids.OPEN_ACL_UNSAFE
}
