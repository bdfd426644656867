package dev.kcluster.cli

import com.github.ajalt.clikt.testing.test
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path

class ConfigFileTest :
    FunSpec({
        val tmp = Files.createTempDirectory("kcluster-cli-conf")
        afterSpec { tmp.toFile().deleteRecursively() }
        val javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString()

        fun parse(vararg argv: String): Pair<RunOptions?, String> {
            var seen: RunOptions? = null
            val r =
                ClusterCommand(
                        runner = {
                            seen = it
                            0
                        }
                    )
                    .test(withRun(arrayOf(*argv)).toList())
            return seen to r.stderr.lines().filter { it.startsWith("Error:") }.joinToString("\n")
        }

        fun conf(name: String, text: String): Path = Files.writeString(tmp.resolve(name), text.trimIndent() + "\n")

        /** Every setting of [o] as text, to compare two parses. */
        fun describe(o: RunOptions): String =
            with(o.config) {
                listOf(
                        target,
                        args,
                        classpath,
                        inheritClasspath,
                        javaCommand,
                        jvmOptions,
                        jvmDefaults,
                        classCache,
                        environment.toSortedMap(),
                        workingDirectory,
                        startTimeout,
                        readyTimeout,
                        stopTimeout,
                        heartbeatInterval,
                        heartbeatTimeout,
                        maxRestarts,
                        restartWindow,
                        maxBackoff,
                        readyPolicy,
                        socketMode,
                        maxFrameSize,
                        standby,
                        maxRequests,
                        maxRequestsJitter,
                        maxMemory,
                        maxRss,
                        messageBufferCount,
                        messageBufferBytes,
                        o.workers,
                        o.pidFile,
                        o.logLevel,
                        o.logJson,
                        o.logFile,
                        o.watch,
                        balance,
                        metricsAddress,
                        metricsInterval,
                        o.zookeeper,
                        o.group,
                        o.zkAuthFile,
                        o.zkSessionTimeout,
                    )
                    .joinToString("|")
            }

        test("every option round-trips: the file gives what the flags give") {
            val dir = Files.createDirectories(tmp.resolve("classes"))
            val cache = Files.createDirectories(tmp.resolve("cache"))
            val auth = Files.writeString(tmp.resolve("zk.auth"), "kc:secret")
            val file =
                conf(
                    "all.conf",
                    """
            target = com.example.Main
            args = [--port, "8080"]
            workers = 3
            classpath = ["$dir", "$tmp"]
            jvm-options = ["-Xmx64m", "-Dx=1"]
            env { A = "1", B = "x=y", C = "" }
            chdir = "$dir"
            java = "$javaBin"
            class-cache = "$cache"
            jvm-defaults = off
            pid-file = "$tmp/c.pid"
            log-level = debug
            log-format = json
            log-file = "$tmp/c.log"
            start-timeout = 45s
            ready-timeout = 2m
            stop-timeout = 3s
            heartbeat-interval = 2s
            heartbeat-timeout = 1m30s
            max-restarts = 7
            restart-window = 500ms
            max-backoff = 1m
            max-frame-size = 1048576
            watch = ["$dir"]
            socket-mode = reuseport
            ready-when = explicit
            standby = 1
            max-requests = 500
            max-requests-jitter = 50
            max-memory = 512m
            max-rss = 1g
            message-buffer = 100
            balance = least-connections
            metrics = "127.0.0.1:9400"
            metrics-interval = 2s
            zookeeper = "127.0.0.1:2181"
            group = shop
            zk-auth-file = "$auth"
            zk-session-timeout = 5s
            """,
                )
            val (fromFile, e1) = parse("--config", "$file")
            e1 shouldBe ""
            val (fromFlags, e2) =
                parse(
                    "-w",
                    "3",
                    "-cp",
                    "$dir",
                    "-cp",
                    "$tmp",
                    "--jvm-opt=-Xmx64m",
                    "--jvm-opt",
                    "-Dx=1",
                    "-e",
                    "A=1",
                    "-e",
                    "B=x=y",
                    "-e",
                    "C=",
                    "--chdir",
                    "$dir",
                    "--java",
                    javaBin,
                    "--class-cache",
                    "$cache",
                    "--jvm-defaults",
                    "off",
                    "-p",
                    "$tmp/c.pid",
                    "-l",
                    "debug",
                    "--log-format",
                    "json",
                    "-f",
                    "$tmp/c.log",
                    "--start-timeout",
                    "45s",
                    "--ready-timeout",
                    "2m",
                    "--stop-timeout",
                    "3s",
                    "--heartbeat-interval",
                    "2s",
                    "--heartbeat-timeout",
                    "1m30s",
                    "--max-restarts",
                    "7",
                    "--restart-window",
                    "500ms",
                    "--max-backoff",
                    "1m",
                    "--max-frame-size",
                    "1048576",
                    "--watch",
                    "$dir",
                    "--socket-mode",
                    "reuseport",
                    "--ready-when",
                    "explicit",
                    "--standby",
                    "1",
                    "--max-requests",
                    "500",
                    "--max-requests-jitter",
                    "50",
                    "--max-memory",
                    "512m",
                    "--max-rss",
                    "1g",
                    "--message-buffer",
                    "100",
                    "--balance",
                    "least-connections",
                    "--metrics",
                    "127.0.0.1:9400",
                    "--metrics-interval",
                    "2s",
                    "--zookeeper",
                    "127.0.0.1:2181",
                    "--group",
                    "shop",
                    "--zk-auth-file",
                    "$auth",
                    "--zk-session-timeout",
                    "5s",
                    "com.example.Main",
                    "--port",
                    "8080",
                )
            e2 shouldBe ""
            describe(fromFile!!) shouldBe describe(fromFlags!!)
            fromFile.configFile shouldBe file
            fromFile.config.maxMemory shouldBe (512L shl 20)
            fromFile.config.environment shouldBe mapOf("A" to "1", "B" to "x=y", "C" to "")
            fromFile.config.balance shouldBe dev.kcluster.BalanceStrategy.LEAST_CONNECTIONS
            fromFile.config.metricsAddress shouldBe java.net.InetSocketAddress("127.0.0.1", 9400)
            fromFile.group shouldBe "shop"
            // Every key of the file is in this test.
            ConfigFile.KEYS.keys.filter { key -> Files.readString(file).lines().none { it.trim().startsWith("$key ") } } shouldBe
                emptyList()
        }

        test("flags override the file; a TARGET on the command line brings its own args; env merges by name") {
            val file = conf("o.conf", "target = a.B\nargs = [x]\nworkers = 2\nenv { A = 1, B = 2 }\njvm-options = [\"-Dfile=1\"]")
            val (o, e) = parse("-w", "4", "-e", "B=3", "--config", "$file")
            e shouldBe ""
            o!!.workers shouldBe 4
            o.config.args shouldBe listOf("x")
            o.config.environment shouldBe mapOf("A" to "1", "B" to "3")
            val (o2, _) = parse("--config", "$file", "--jvm-opt=-Dflag=1", "c.D")
            o2!!.target shouldBe "c.D"
            o2.config.args shouldBe emptyList()
            o2.config.jvmOptions shouldBe listOf("-Dflag=1")
        }

        test("\${?ENV} substitutions come from the environment, and are left out when unset") {
            val env = System.getenv().entries.first { it.value.isNotEmpty() && !it.value.contains('"') && !it.value.contains('\\') }
            val file =
                conf("e.conf", "target = a.B\nenv { FROM_ENV = \${?${env.key}} }\nworkers = 2\nworkers = \${?KCLUSTER_TEST_SURELY_UNSET}")
            val (o, e) = parse("--config", "$file")
            e shouldBe ""
            o!!.config.environment shouldBe mapOf("FROM_ENV" to env.value)
            o.workers shouldBe 2
        }

        test("a bad file fails with the file, the line and the key") {
            val missing = tmp.resolve("nope.conf")
            listOf(
                    "target = a.B\nwrokers = 2" to "Error: FILE:2: unknown key 'wrokers'",
                    "target = a.B\n\nworkers = two" to "Error: FILE:3: workers: expected a number, got \"two\"",
                    "workers = 0\ntarget = a.B" to "Error: FILE:1: workers: must be at least 1, was 0",
                    "target = a.B\njvm-options = -Xmx1g" to "Error: FILE:2: jvm-options: expected a list of strings, got \"-Xmx1g\"",
                    "target = a.B\nenv { A { B = 1 } }" to "Error: FILE:2: env: A: expected a string, got an object",
                    "target = a.B\nheartbeat-interval = soon" to
                        "Error: FILE:2: heartbeat-interval: invalid duration 'soon' (use e.g. 500ms, 10s, 2m, 1h or 1m30s)",
                    "target = a.B\nsocket-mode = magic" to
                        "Error: FILE:2: socket-mode: invalid choice: magic (choose from shared, reuseport, balance)",
                    "target = a.B\nmax-memory = lots" to "Error: FILE:2: max-memory: invalid size 'lots' (use e.g. 512m, 1g or 300MiB)",
                    "target = a.B\nclasspath = [\"/does/not/exist\"]" to "Error: FILE:2: classpath: '/does/not/exist' does not exist",
                    "target = a.B\nargs = [x, [y]]" to "Error: FILE:2: args: item 2: expected a string, got a list",
                    "target = a.B\nmetrics = localhost" to "Error: FILE:2: metrics: expected HOST:PORT, got 'localhost'",
                    "target = a.B\nbalance = random" to
                        "Error: FILE:2: balance: invalid choice: random (choose from round-robin, least-connections, ip-hash)",
                    "target = a.B\nzookeeper = \"127.0.0.1:2181\"" to "Error: --zookeeper and --group go together",
                    "target = a.B\nworkers = \${NOT_SET_ANYWHERE_KCL}" to
                        "Error: FILE: 2: Could not resolve substitution to a value: \${NOT_SET_ANYWHERE_KCL}",
                )
                .forEachIndexed { i, (text, line) ->
                    val file = conf("bad$i.conf", text)
                    withClue(text) { parse("--config", "$file") shouldBe (null to line.replace("FILE", "$file")) }
                }
            parse("--config", "$missing").second shouldBe "Error: invalid value for --config: file \"$missing\" does not exist."
            parse("--config", "${conf("empty.conf", "workers = 2")}").second shouldBe
                "Error: missing argument <target> (or `target` in --config)"
        }

        test("the README's example file reads") {
            val readme = Files.readString(Path.of("README.md"))
            val example = readme.substringAfter("```hocon\n").substringBefore("```")
            val dir = Files.createDirectories(tmp.resolve("readme"))
            Files.createDirectories(dir.resolve("build/libs"))
            Files.writeString(dir.resolve("build/libs/app.jar"), "")
            val file =
                Files.writeString(dir.resolve("cluster.conf"), example.replace("build/libs", "$dir/build/libs").replace("/run/", "$dir/"))
            val s = ConfigFile.read(file)
            s.target shouldBe "com.example.Server"
            s.args shouldBe listOf("--port", "8080")
            s.jvmOptions shouldBe listOf("-Xmx256m", "-Dapp.mode=prod")
            s.environment shouldBe (System.getenv("DB_URL")?.let { mapOf("DB_URL" to it) } ?: emptyMap()) + mapOf("LANG" to "C.UTF-8")
            s.maxMemory shouldBe (512L shl 20)
        }

        test("a reread sees the edited file") {
            val file = conf("r.conf", "target = a.B\njvm-options = [\"-Da=1\"]")
            val (o, _) = parse("--config", "$file", "-w", "2")
            Files.writeString(file, "target = a.B\njvm-options = [\"-Da=2\"]\nenv { X = y }\nworkers = 5\n")
            val fresh = o!!.reread!!()
            fresh.config.jvmOptions shouldBe listOf("-Da=2")
            fresh.workers shouldBe 2
            ReloadChanges.workerLevel(o, fresh) shouldBe listOf("jvm-options", "env")
            ReloadChanges.needFullRestart(o, fresh) shouldBe emptyList()
            Files.writeString(file, "target = a.B\nsocket-mode = reuseport\n")
            ReloadChanges.needFullRestart(o, o.reread!!()) shouldBe listOf("socket-mode")
        }
    })

private inline fun withClue(clue: Any, block: () -> Unit) = io.kotest.assertions.withClue(clue, block)
