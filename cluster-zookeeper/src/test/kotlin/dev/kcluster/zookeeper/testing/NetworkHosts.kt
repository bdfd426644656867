package dev.kcluster.zookeeper.testing

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

/**
 * Hosts as Linux network namespaces, for tests that cut one host's link. One bridge in the root namespace has `<net>.1/24` ([gateway]:
 * servers in the root namespace that listen on the wildcard address are reached there); each host is a namespace with `lo` up and an `eth0`
 * at `<net>.(k+2)/24`, the far end of a veth pair whose root end is a port of the bridge. [cut] sets that root end down: the host's kernel
 * keeps its address and route, so its packets are dropped silently, like a pulled cable or a dead switch port, and the root namespace's
 * packets stay on the bridge (nothing leaks to the real network).
 *
 * Every name carries this JVM's pid (namespaces `kcnt-<pid>-a`, links `kcnt<pid>a`, the bridge `kcnt<pid>br`), so [sweep] can remove what a
 * killed run left behind, and never touches a live run's. Needs root and iproute2's `ip` ([unavailable] says why not).
 */
class NetworkHosts(count: Int) : AutoCloseable {
    /** One host: its namespace, the root end of its veth, its address. */
    class Host(val name: String, val link: String, val address: String) {
        override fun toString(): String = "$name ($address)"
    }

    private val bridge = "$PREFIX${me}br"
    val gateway: String
    val hosts: List<Host>

    init {
        require(count in 1..26)
        sweep()
        val net = freeNet()
        gateway = "$net.1"
        hosts = (0 until count).map { k -> Host("$PREFIX-$me-${'a' + k}", "$PREFIX$me${'a' + k}", "$net.${k + 2}") }
        try {
            ip("link", "add", bridge, "type", "bridge")
            ip("addr", "add", "$gateway/24", "dev", bridge)
            ip("link", "set", bridge, "up")
            for (h in hosts) {
                ip("netns", "add", h.name)
                ip("link", "add", h.link, "type", "veth", "peer", "name", "eth0", "netns", h.name)
                ip("link", "set", h.link, "master", bridge)
                ip("link", "set", h.link, "up")
                ip("-n", h.name, "addr", "add", "${h.address}/24", "dev", "eth0")
                ip("-n", h.name, "link", "set", "eth0", "up")
                ip("-n", h.name, "link", "set", "lo", "up")
            }
        } catch (e: Exception) {
            close()
            throw e
        }
    }

    /** The command prefix that runs a program inside [h]'s namespace. */
    fun exec(h: Host): List<String> = listOf("ip", "netns", "exec", h.name)

    /** Cuts [h]'s link: the root end of its veth goes down. */
    fun cut(h: Host) {
        ip("link", "set", h.link, "down")
    }

    /** Restores [h]'s link. */
    fun restore(h: Host) {
        ip("link", "set", h.link, "up")
    }

    /** One HTTP GET to 127.0.0.1:[port] inside [h]'s namespace (bash's `/dev/tcp`, no client to install); the body, or null. */
    fun httpGet(h: Host, port: Int): String? {
        val script = "exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3 && cat <&3"
        val text = runCatching { command(exec(h) + listOf("timeout", "5", "bash", "-c", script)) }.getOrNull() ?: return null
        return if (text.startsWith("HTTP/1.1 200")) text.substringAfter("\r\n\r\n") else null
    }

    /**
     * Removes every namespace (after killing the processes still in it: only this test's) and the bridge; the veth pairs go with their
     * namespaces. Idempotent; never throws ([leftovers] tells what could not be removed).
     */
    override fun close() {
        remove(me)
    }

    companion object {
        const val PREFIX = "kcnt"
        private val me = ProcessHandle.current().pid()
        private val NAMESPACE = Regex("""$PREFIX-(\d+)-[a-z]""")
        private val LINK = Regex("""$PREFIX(\d+)(br|[a-z])""")

        /** Null when this machine can run these tests, else why not. */
        fun unavailable(): String? {
            val uid =
                runCatching { Files.readAllLines(Path.of("/proc/self/status")).first { it.startsWith("Uid:") }.split(Regex("\\s+"))[2] }
                    .getOrNull()
            if (uid != "0") return "network namespaces need root (effective uid ${uid ?: "unknown"})"
            val ip = runCatching { command(listOf("ip", "netns", "list")) }
            return ip.exceptionOrNull()?.let { "network namespaces need iproute2's `ip` with netns support: ${it.message}" }
        }

        /** Removes the namespaces and links of runs whose JVM is gone (a killed run's), and this JVM's. */
        fun sweep() {
            val pids = namespaces().map { it.first } + links().map { it.first }
            for (pid in pids.toSet()) if (pid == me || !ProcessHandle.of(pid).isPresent) remove(pid)
        }

        /** What is left of this JVM's namespaces and links. */
        fun leftovers(): List<String> = (namespaces() + links()).filter { it.first == me }.map { it.second }

        private fun remove(pid: Long) {
            for ((_, ns) in namespaces().filter { it.first == pid }) {
                // the processes still in it were started by this test (or the killed run it belongs to)
                val inside = runCatching { command(listOf("ip", "netns", "pids", ns)).lines().mapNotNull { it.trim().toLongOrNull() } }
                for (p in inside.getOrDefault(emptyList())) {
                    ProcessHandle.of(p).ifPresent { h ->
                        h.destroyForcibly()
                        runCatching { h.onExit().get(10, TimeUnit.SECONDS) }
                    }
                }
                runCatching { ip("netns", "del", ns) }.onFailure { System.err.println("could not delete namespace $ns: ${it.message}") }
            }
            for ((_, link) in links().filter { it.first == pid }) {
                // a veth whose namespace was just deleted may vanish by itself meanwhile
                runCatching { ip("link", "del", link) }
                    .onFailure { e ->
                        if (links().any { it.second == link }) System.err.println("could not delete link $link: ${e.message}")
                    }
            }
        }

        private fun namespaces(): List<Pair<Long, String>> =
            runCatching { command(listOf("ip", "netns", "list")) }
                .getOrDefault("")
                .lines()
                .mapNotNull { l ->
                    l.trim().substringBefore(' ').let { n -> NAMESPACE.matchEntire(n)?.let { it.groupValues[1].toLong() to n } }
                }

        private fun links(): List<Pair<Long, String>> =
            runCatching { command(listOf("ip", "-o", "link", "show")) }
                .getOrDefault("")
                .lines()
                .mapNotNull { l ->
                    // "12: kcnt4711a@if11: <BROADCAST,…"
                    val n = l.substringAfter(": ", "").substringBefore(':').substringBefore('@')
                    LINK.matchEntire(n)?.let { it.groupValues[1].toLong() to n }
                }

        /** A `10.213.x` network that no address or route of the root namespace uses yet. */
        private fun freeNet(): String {
            val taken = command(listOf("ip", "-4", "-o", "addr", "show")) + command(listOf("ip", "-4", "route", "show", "table", "all"))
            val start = (me % 236).toInt()
            return (0 until 236).map { "10.213.${20 + (start + it) % 236}" }.first { net -> "$net." !in taken }
        }

        private fun ip(vararg args: String): String = command(listOf("ip") + args)

        /** Runs [cmd] to completion (20 s at most); its output, stdout and stderr merged. Throws naming the command when it fails. */
        private fun command(cmd: List<String>): String {
            val p = ProcessBuilder(cmd).redirectErrorStream(true).start()
            p.outputStream.close()
            val out = CompletableFuture.supplyAsync { p.inputStream.readBytes().decodeToString() }
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly()
                throw IllegalStateException("${cmd.joinToString(" ")} did not finish within 20 s")
            }
            val text = out.get(5, TimeUnit.SECONDS)
            check(p.exitValue() == 0) { "${cmd.joinToString(" ")} failed (exit ${p.exitValue()}): ${text.trim()}" }
            return text
        }
    }
}
