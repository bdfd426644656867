@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.samples

import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.testing.awaitUntil
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.TimeUnit

/** Listening TCP sockets on [port] in this machine's /proc/net/tcp. */
private fun listeners(port: Int): Int {
    val hex = ":%04X".format(port)
    return Files.readAllLines(Path.of("/proc/net/tcp"))
        .drop(1)
        .map { it.trim().split(Regex("\\s+")) }
        .count { it[1].endsWith(hex) && it[3] == "0A" }
}

/** The cluster command under `systemd-socket-activate` (Debian's systemd package), as a `.socket` unit would start it. */
class SocketActivationCliTest :
    FunSpec({
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val activate =
            listOf("/usr/bin/systemd-socket-activate", "/bin/systemd-socket-activate").firstOrNull { Files.isExecutable(Path.of(it)) }

        test("the cluster serves on the activated socket, and nothing else binds its port").config(enabled = activate != null) {
            val dir = Files.createTempDirectory("kcluster-activation")
            val port = ServerSocket(0).use { it.localPort }
            val log = dir.resolve("watcher.log")
            val cmd =
                listOf(activate!!, "-l", "127.0.0.1:$port", "--fdname=http", java) +
                    KclusterJvm.ADD_OPENS +
                    listOf(
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.kcluster.cli.ClusterCli",
                        "run",
                        "--workers",
                        "2",
                        "--jvm-opt",
                        "-Xmx64m",
                        "--jvm-opt",
                        "-XX:TieredStopAtLevel=1",
                        "dev.kcluster.samples.HelloHttp",
                        "--port",
                        "$port",
                    )
            val p = ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start()
            try {
                awaitUntil("systemd-socket-activate listening", 30_000) { Files.readString(log).contains("Listening on 127.0.0.1:$port") }
                // The first connection makes systemd-socket-activate start the cluster; it waits in the backlog meanwhile.
                val client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                val request = HttpRequest.newBuilder(URI("http://127.0.0.1:$port/")).timeout(Duration.ofSeconds(120)).build()
                val first = client.send(request, HttpResponse.BodyHandlers.ofString())
                first.statusCode() shouldBe 200
                first.body() shouldContain "Hello"
                val ids =
                    (1..20)
                        .map { client.send(request, HttpResponse.BodyHandlers.ofString()).headers().firstValue("X-Worker-Id").orElse("?") }
                        .toSet()
                (ids - setOf("1", "2")) shouldBe emptySet()
                listeners(port) shouldBe 1
                val text = Files.readString(log)
                text shouldContain "socket activation: adopted fd 3 (127.0.0.1:$port, name http)"
                text.contains("is not used by any worker") shouldBe false
            } finally {
                p.descendants().forEach { it.destroy() }
                p.destroy()
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.descendants().forEach { it.destroyForcibly() }
                    p.destroyForcibly()
                }
                dir.toFile().deleteRecursively()
            }
        }
    })
