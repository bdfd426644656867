package dev.kcluster.zookeeper

/** ZooKeeper refused what a group member needs (wrong credentials, no access to the group's nodes). */
public class ZooKeeperGroupException(message: String, cause: Throwable? = null) : Exception(message, cause)
