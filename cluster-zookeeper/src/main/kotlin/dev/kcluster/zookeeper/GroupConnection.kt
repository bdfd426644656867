package dev.kcluster.zookeeper

/**
 * The state of a member's link to ZooKeeper ([ZooKeeperMembership.connection]). Whatever it is, the watcher's workers keep serving; only
 * leadership needs [CONNECTED].
 */
public enum class GroupConnection {
    /** Not connected yet (starting). */
    CONNECTING,

    /** Connected, the member node registered (or being registered). */
    CONNECTED,

    /** Connection lost; the session may still be alive. Leadership on this host was revoked at once. */
    SUSPENDED,

    /** The session is gone (expired or never re-established); the member rejoins with a new session when it can. */
    LOST,

    /** [ZooKeeperMembership.close] was called. */
    CLOSED,
}
