package dev.kcluster.cli

import dev.kcluster.cli.testing.CliHarness
import dev.kcluster.cli.testing.TestServer
import dev.kcluster.testing.ZooKeeperTestFiles
import dev.kcluster.testing.awaitUntil
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.net.InetSocketAddress
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.serialization.builtins.ListSerializer
import org.apache.curator.test.TestingServer

/**
 * End-to-end: three `cluster --zookeeper` processes (fat jar) in one group, each with its own config file, HTTP load on every host, and
 * `cluster reload --all-hosts`.
 */
class GroupReloadIT :
    FunSpec({
        val h = CliHarness()
        val zk = TestingServer(true)
        afterSpec {
            h.cleanUp()
            zk.close()
            ZooKeeperTestFiles.clean()
        }
        val target = TestServer::class.java.name

        class Host(val pidFile: Path, val config: Path, val running: CliHarness.Running) {
            var port = 0

            /** The member id, `<host>-<watcher pid>`. */
            lateinit var member: String

            /** (start, end) of each rolling restart this host's log reports, from its log lines' times. */
            fun restarts(): List<Pair<LocalDateTime, LocalDateTime?>> {
                val lines = running.stderr.lines()
                val starts = lines.filter { "group restart: rolling restart" in it && "done" !in it && "rolled back" !in it }.map(::time)
                val ends =
                    lines
                        .filter { "group restart: rolling restart done" in it || "group restart: rolling restart rolled back" in it }
                        .map(::time)
                return starts.mapIndexed { i, s -> s to ends.getOrNull(i) }
            }
        }

        fun config(file: Path, vararg args: String) =
            Files.writeString(file, "target = \"$target\"\nargs = [${args.joinToString(", ") { "\"$it\"" }}]\n")

        fun hosts(pidFile: Path): List<HostStatus>? {
            val r = h.run("status", "-p", "$pidFile", "--all-hosts", "--json")
            if (r.code != 0) return null
            return ControlProtocol.json.decodeFromString(ListSerializer(HostStatus.serializer()), r.stdout)
        }

        val hosts = mutableListOf<Host>()
        beforeSpec {
            hosts +=
                (1..3).map { i ->
                    val pid = h.dir.resolve("h$i.pid")
                    val conf = h.dir.resolve("h$i.conf").also { config(it, "http") }
                    val run =
                        h.start(
                            "-w",
                            "1",
                            "-p",
                            "$pid",
                            "--config",
                            "$conf",
                            "--zookeeper",
                            zk.connectString,
                            "--group",
                            "roll",
                            "--zk-session-timeout",
                            "4s",
                            "--ready-timeout",
                            "20s",
                            "-cp",
                            h.testClasses,
                            *h.workerJvm.toTypedArray(),
                        )
                    Host(pid, conf, run)
                }
        }

        /** Every host up, in the group, with its HTTP port; sorted by member id (the order of a roll). */
        suspend fun awaitGroup(): List<Host> {
            awaitUntil("three hosts in the group, each with a READY worker", 90_000, pollMillis = 500) {
                hosts(hosts[0].pidFile)?.let { l -> l.size == 3 && l.all { it.ready == 1 } } == true
            }
            val members = hosts(hosts[0].pidFile)!!
            for (host in hosts) {
                val m = members.single { it.watcherPid == host.running.pid }
                host.member = m.id
                host.port = h.status(host.pidFile).listening.single().substringAfterLast(':').toInt()
            }
            return hosts.sortedBy { it.member }
        }

        /** Runs [block] under HTTP load on every host; returns (answered, failures). */
        fun <T> underLoad(block: () -> T): Triple<T, Int, List<String>> {
            val stop = AtomicBoolean()
            val ok = AtomicInteger()
            val failures = ConcurrentLinkedQueue<String>()
            val threads =
                hosts.map { host ->
                    Thread {
                            while (!stop.get()) {
                                val answer = runCatching { get(host.port) }
                                if (answer.getOrNull()?.startsWith("HTTP/1.1 200") == true) ok.incrementAndGet()
                                else failures += "${host.member}: ${answer.exceptionOrNull() ?: answer.getOrNull()}"
                                Thread.sleep(2) // pacing, so the load leaves the two cores some room
                            }
                        }
                        .apply { start() }
                }
            val result =
                try {
                    block()
                } finally {
                    stop.set(true)
                    threads.forEach { it.join(10_000) }
                }
            return Triple(result, ok.get(), failures.toList())
        }

        test("reload --all-hosts under HTTP load: one host at a time, 0 failed requests") {
            val sorted = awaitGroup()
            val (reload, answered, failures) = underLoad { h.run("reload", "--all-hosts", "-p", "${hosts[1].pidFile}") }
            withClue({ "$reload\n" + hosts.joinToString("\n") { it.running.toString() } }) {
                reload.code shouldBe 0
                reload.stdout.lines() shouldBe sorted.map { "${it.member}: reloaded, 1 worker replaced" }
                failures.shouldBeEmpty()
                answered shouldBeGreaterThan 100
                val intervals = sorted.map { it.restarts().single() }
                intervals.forEach { (_, end) -> (end != null) shouldBe true }
                // from the hosts' own log times: each host's restart begins after the previous one ended
                intervals.zipWithNext().forEach { (a, b) -> (b.first >= a.second!!) shouldBe true }
            }
            println("NUMBER reload --all-hosts of 3 hosts under load: $answered requests, ${failures.size} failed")
        }

        test("a host whose reload rolls back stops the roll: the host after it is skipped, and the command exits 3") {
            val sorted = awaitGroup()
            val (first, failing, last) = sorted
            config(failing.config, "http", "fail-above", "0") // its next worker refuses to start
            val lastWorkers = h.status(last.pidFile).workers.map { it.pid }
            val reload = h.run("reload", "--all-hosts", "-p", "${last.pidFile}")
            withClue({ "$reload\n" + hosts.joinToString("\n") { it.running.toString() } }) {
                reload.code shouldBe 3
                val lines = reload.stdout.lines()
                lines[0] shouldBe "${first.member}: reloaded, 1 worker replaced"
                lines[1] shouldContain "${failing.member}: rolled back after 0 replaced"
                lines[1] shouldContain "refuses to start"
                lines[2] shouldBe "${last.member}: skipped (${failing.member} rolled back)"
                reload.stderr shouldContain "a host rolled back"
                h.status(last.pidFile).workers.map { it.pid } shouldBe lastWorkers
                last.restarts().size shouldBe 1 // only the first test's
                h.status(failing.pidFile).workers.single().state shouldBe "READY"
            }
            for (host in hosts) h.run("stop", "-p", "${host.pidFile}").code shouldBe 0
            for (host in hosts) host.running.awaitExit() shouldBe 0
        }
    })

private val logTime = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")

private fun time(line: String): LocalDateTime = LocalDateTime.parse(line.take(23), logTime)

private fun get(port: Int): String =
    Socket().use { s ->
        s.connect(InetSocketAddress("127.0.0.1", port), 2_000)
        s.soTimeout = 5_000
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".toByteArray())
        s.getInputStream().readBytes().decodeToString()
    }
