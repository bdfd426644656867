package dev.kcluster.dsl

import dev.kcluster.dsl.internal.MainClass
import dev.kcluster.dsl.internal.Runner
import dev.kcluster.dsl.testing.DslTestApp
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.time.Duration.Companion.seconds

/** Misuse fails before anything starts, with a message naming the fix; settings reach the watcher config. */
class ClusterSpecTest :
    FunSpec({
        fun run(block: ClusterSpec.() -> Unit) =
            Runner.run(emptyList(), caller = null, installSignals = false, standaloneEnv = null, block = block)

        test("a cluster without a worker block fails naming worker { }") {
            shouldThrow<IllegalStateException> { run { workers(2) } }.message shouldContain "add worker { … }"
        }

        test("workers(0) fails naming the fix") {
            shouldThrow<IllegalArgumentException> {
                    run {
                        workers(0)
                        worker {}
                    }
                }
                .message shouldContain "use workers(1) or more"
        }

        test("two worker blocks fail asking to merge them") {
            shouldThrow<IllegalStateException> {
                    run {
                        worker {}
                        worker {}
                    }
                }
                .message shouldContain "merge the two blocks"
        }

        test("a configuring call after the cluster { } block (from a handler or worker) fails naming where it belongs") {
            lateinit var spec: ClusterSpec
            Runner.config(
                ClusterSpec(emptyList())
                    .apply {
                        spec = this
                        mainClass("x.Main")
                        worker {}
                    }
                    .freeze(),
                null,
            )
            shouldThrow<IllegalStateException> { spec.workers(3) }.message shouldContain "directly in the cluster { } block"
        }

        test("zookeeper(connect, group) { } reaches WatcherConfig.group") {
            val config =
                Runner.config(
                    ClusterSpec(emptyList())
                        .apply {
                            mainClass("x.Main")
                            zookeeper("zk1:2181,zk2:2181", group = "shop") { sessionTimeout(7.seconds) }
                            worker {}
                        }
                        .freeze(),
                    null,
                )
            config.group!!.connect shouldBe "zk1:2181,zk2:2181"
            config.group!!.name shouldBe "shop"
            config.group!!.sessionTimeout shouldBe java.time.Duration.ofSeconds(7)
        }

        test("a caller without main and a foreign command line fail asking for mainClass(…)") {
            shouldThrow<IllegalStateException> { MainClass.find(null, ClusterSpecTest::class.java, "org.example.NoSuchMain x") }
                .message shouldContain "add mainClass(\"com.example.MainKt\")"
            MainClass.find(null, DslTestApp::class.java, "whatever") shouldBe DslTestApp::class.java.name
            MainClass.find(null, null, "/opt/app.jar --port 1") shouldBe "/opt/app.jar"
            MainClass.find("a.B", DslTestApp::class.java) shouldBe "a.B"
        }

        test("settings reach the watcher configuration") {
            val spec =
                ClusterSpec(listOf("a", "b"))
                    .apply {
                        workers(3)
                        mainClass("app.Main")
                        jvmOptions("-Xmx64m")
                        environment("K", "V")
                        restart {
                            rolling()
                            readyTimeout(7.seconds)
                            stopTimeout(3.seconds)
                            maxCrashes(2, 30.seconds)
                            maxBackoff(1.seconds)
                        }
                        timeouts {
                            start(11.seconds)
                            heartbeat(2.seconds, 9.seconds)
                        }
                        watcherConfig { maxFrameSize(1 shl 20) }
                        worker {}
                    }
                    .freeze()
            val c = Runner.config(spec, null)
            spec.workerCount shouldBe 3
            c.target shouldBe "app.Main"
            c.args shouldBe listOf("a", "b")
            c.jvmOptions shouldBe listOf("-Xmx64m")
            c.environment shouldBe mapOf("K" to "V")
            c.readyTimeout.seconds shouldBe 7
            c.stopTimeout.seconds shouldBe 3
            c.maxRestarts shouldBe 2
            c.restartWindow.seconds shouldBe 30
            c.maxBackoff.seconds shouldBe 1
            c.startTimeout.seconds shouldBe 11
            c.heartbeatInterval.seconds shouldBe 2
            c.heartbeatTimeout.seconds shouldBe 9
            c.maxFrameSize shouldBe (1 shl 20)
        }
    })
