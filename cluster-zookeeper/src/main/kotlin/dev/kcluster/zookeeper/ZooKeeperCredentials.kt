package dev.kcluster.zookeeper

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermission

/**
 * ZooKeeper digest credentials (`user:password`) for a group. With credentials, the group's nodes (`/kcluster/<group>` and below) get an
 * ACL that gives all rights to this digest identity only; other clients can neither read nor change them. Secrets come from a file or an
 * environment variable, never from the command line; `toString` does not show the password.
 */
public class ZooKeeperCredentials
private constructor(
    /** The digest user name. */
    public val user: String,
    internal val password: String,
) {
    internal val auth: ByteArray
        get() = "$user:$password".encodeToByteArray()

    override fun toString(): String = "ZooKeeperCredentials(user=$user)"

    public companion object {
        /** Credentials given in code (from a secret store, say). @throws IllegalArgumentException when empty or the user has a ':'. */
        @JvmStatic
        public fun of(user: String, password: String): ZooKeeperCredentials {
            require(user.isNotEmpty() && ':' !in user) { "ZooKeeper user must be non-empty and without ':' (got '$user')" }
            require(password.isNotEmpty()) { "ZooKeeper password for '$user' is empty" }
            return ZooKeeperCredentials(user, password)
        }

        /** Parses `user:password` (surrounding whitespace and a trailing newline are ignored). */
        @JvmStatic
        public fun parse(text: String, source: String = "credentials"): ZooKeeperCredentials {
            val t = text.trim()
            val i = t.indexOf(':')
            require(i > 0 && i < t.length - 1) { "$source must hold 'user:password' on one line" }
            return of(t.substring(0, i), t.substring(i + 1))
        }

        /**
         * Reads `user:password` from [file], which must not be readable by group or others.
         *
         * @throws IllegalArgumentException when the file is missing, too open, or malformed.
         */
        @JvmStatic
        public fun fromFile(file: Path): ZooKeeperCredentials {
            require(Files.isRegularFile(file)) { "ZooKeeper credentials file $file does not exist" }
            val perms = runCatching { Files.getPosixFilePermissions(file) }.getOrNull()
            val open = perms.orEmpty().intersect(setOf(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ))
            require(open.isEmpty()) { "ZooKeeper credentials file $file is readable by others; chmod 600 $file" }
            return parse(Files.readString(file), "ZooKeeper credentials file $file")
        }

        /**
         * Reads `user:password` from the environment variable [name] (default `KCLUSTER_ZK_AUTH`).
         *
         * @throws IllegalArgumentException when it is unset or malformed.
         */
        @JvmStatic
        @JvmOverloads
        public fun fromEnvironment(name: String = ENV): ZooKeeperCredentials {
            val v =
                System.getenv(name) ?: throw IllegalArgumentException("environment variable $name (ZooKeeper 'user:password') is not set")
            return parse(v, "environment variable $name")
        }

        /** The default environment variable for [fromEnvironment]. */
        public const val ENV: String = "KCLUSTER_ZK_AUTH"
    }
}
