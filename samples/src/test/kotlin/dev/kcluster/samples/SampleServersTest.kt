package dev.kcluster.samples

import dev.kcluster.ClusterWatcher
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import java.io.BufferedInputStream
import java.net.Socket
import kotlinx.coroutines.withTimeout

class SampleServersTest :
    FunSpec({
        fun get(port: Int): KeepAliveClient.Response =
            Socket("127.0.0.1", port).use { s ->
                s.soTimeout = 20_000
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".toByteArray())
                KeepAliveClient.readResponse(BufferedInputStream(s.getInputStream()))
            }

        test("HelloHttpJava answers from both workers of a cluster") {
            val watcher = ClusterWatcher(testConfig(HelloHttpJava::class.java.name, "--port", "0"))
            try {
                watcher.start(2)
                val port = watcher.listeningAddresses.single().port
                val ids = watcher.workers.map { it.id.toString() }.toSet()
                val seen = HashSet<String>()
                withTimeout(60_000) {
                    while (seen != ids) {
                        val r = get(port)
                        r.status shouldBe 200
                        r.body shouldBe "Hello, World!"
                        r.headers["content-type"] shouldBe "text/plain"
                        seen += r.headers.getValue("x-worker-id")
                    }
                }
            } finally {
                watcher.stop()
            }
        }

        test("KtorHello serves on the cluster socket and restarts without losing requests") {
            val watcher = ClusterWatcher(testConfig(KtorHello::class.java.name, "--port", "0"))
            var client: KeepAliveClient? = null
            try {
                watcher.start(2)
                val port = watcher.listeningAddresses.single().port
                val first = get(port)
                first.status shouldBe 200
                first.body shouldBe "Hello from Ktor!"
                (first.headers.getValue("x-worker-id") in watcher.workers.map { it.id.toString() }) shouldBe true
                client = KeepAliveClient(port, clients = 4, expectedBody = "Hello from Ktor!").start()
                suspend fun awaitOk(n: Long) = client.awaitOk(n)
                awaitOk(100)
                watcher.restart().rolledBack shouldBe false
                awaitOk(100)
                client.stop()
                println("ktor: ok=${client.ok} failed=${client.failed} byWorker=${client.byWorker}")
                client.failures.forEach { println("failure: $it") }
                client.failed.get() shouldBe 0
                client.ok.get() shouldBeGreaterThan 200
            } finally {
                client?.stop()
                watcher.stop()
            }
        }

        test("HelloHttp rejects a bad --port with a message naming the fix") {
            val p =
                ProcessBuilder(
                        ProcessHandle.current().info().command().get(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        HelloHttp::class.java.name,
                        "--port",
                        "eighty",
                    )
                    .redirectErrorStream(true)
                    .start()
            val out = p.inputStream.bufferedReader().readText()
            p.waitFor() shouldBe 2
            out shouldStartWith "--port expects a number 0-65535, got 'eighty'"
        }
    })
