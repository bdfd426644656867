package dev.kcluster.internal.net

import java.net.Inet6Address
import java.net.InetAddress
import java.net.InetSocketAddress

/**
 * Parses `host:port`, `[v6]:port`, `:port` or `port` (all interfaces). Port 0 asks for an ephemeral port. Throws [IllegalArgumentException]
 * with the offending text.
 */
internal fun parseAddress(text: String): InetSocketAddress {
    val t = text.trim()
    fun fail(why: String): Nothing = throw IllegalArgumentException("invalid socket address '$text': $why")
    val (host, portText) =
        when {
            t.startsWith("[") -> {
                val end = t.indexOf(']')
                if (end < 0 || end + 1 >= t.length || t[end + 1] != ':') fail("expected [ipv6]:port")
                t.substring(1, end) to t.substring(end + 2)
            }
            t.contains(':') -> {
                val i = t.lastIndexOf(':')
                if (t.indexOf(':') != i) fail("IPv6 addresses go in brackets, e.g. [::1]:8080")
                t.substring(0, i) to t.substring(i + 1)
            }
            else -> "" to t
        }
    val port = portText.toIntOrNull() ?: fail("port '$portText' is not a number")
    if (port !in 0..65535) fail("port $port is out of range 0..65535")
    val addr =
        if (host.isEmpty() || host == "*") InetAddress.getByAddress(ByteArray(4))
        else runCatching { InetAddress.getByName(host) }.getOrElse { fail("unknown host '$host'") }
    return InetSocketAddress(addr, port)
}

internal val InetSocketAddress.isV6: Boolean
    get() = address is Inet6Address

internal fun InetSocketAddress.format(): String = if (isV6) "[${address.hostAddress}]:$port" else "${address.hostAddress}:$port"
