package dev.kcluster.zookeeper.internal

/** Checks a ZooKeeper connect string (`host:port[,host:port…][/chroot]`) before Curator sees it. */
internal object ConnectString {
    fun validate(s: String) {
        fun bad(why: String): Nothing =
            throw IllegalArgumentException("bad ZooKeeper connect string '$s': $why (expected host:port[,host:port…][/chroot])")
        if (s.isBlank()) bad("it is empty")
        val slash = s.indexOf('/')
        val hosts = if (slash >= 0) s.substring(0, slash) else s
        if (slash >= 0) {
            val chroot = s.substring(slash)
            if (chroot.length > 1 && (chroot.endsWith("/") || "//" in chroot)) bad("chroot '$chroot' is malformed")
        }
        if (hosts.isEmpty()) bad("no host")
        for (h in hosts.split(',')) {
            val e = h.trim()
            if (e.isEmpty()) bad("an empty host entry")
            val (host, port) =
                when {
                    e.startsWith("[") -> {
                        val end = e.indexOf(']')
                        if (end < 0) bad("'$e' opens '[' without ']'")
                        e.substring(1, end) to e.substring(end + 1).removePrefix(":").ifEmpty { null }
                    }
                    e.count { it == ':' } > 1 -> bad("'$e': write IPv6 addresses as [addr]:port")
                    ':' in e -> e.substringBefore(':') to e.substringAfter(':')
                    else -> e to null
                }
            if (host.isEmpty() || host.any { it.isWhitespace() }) bad("'$e' has no valid host")
            if (port != null && port.toIntOrNull()?.takeIf { it in 1..65535 } == null) bad("'$e' has an invalid port '$port'")
        }
    }
}
