@file:OptIn(InternalKclusterApi::class)

package dev.kcluster.samples

import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import dev.kcluster.testing.awaitUntil
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.net.ServerSocket
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * `cluster top` in a real terminal: tmux runs it in a shell (send-keys to type, capture-pane to read): a row per worker, a new row after
 * `cluster scale`, `q` quits and the terminal is back in cooked mode.
 */
class ClusterTopTest :
    FunSpec({
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val classpath = System.getProperty("java.class.path")
        val session = "kcluster-top-${ProcessHandle.current().pid()}"

        fun cli(vararg args: String): List<String> =
            listOf(java) + KclusterJvm.ADD_OPENS + listOf("-cp", classpath, "dev.kcluster.cli.ClusterCli") + args

        fun run(cmd: List<String>): String {
            val p = ProcessBuilder(cmd).redirectErrorStream(true).start()
            val out = p.inputStream.bufferedReader().readText()
            check(p.waitFor(60, TimeUnit.SECONDS)) { "${cmd.joinToString(" ")} did not finish" }
            return out
        }

        fun tmux(vararg args: String): String = run(listOf("tmux") + args)
        fun screen(): List<String> = tmux("capture-pane", "-p", "-t", session).lines()
        fun rows(): List<List<String>> =
            screen().map { it.trim().split(Regex("\\s+")) }.filter { it.size >= 11 && it[3] == "READY" && it[0].toIntOrNull() != null }

        test("one row per worker, updated after a scale; q quits and restores the terminal") {
            check(ProcessBuilder("tmux", "-V").start().waitFor() == 0) { "tmux is needed (.ci/run installs it)" }
            val dir = Files.createTempDirectory("kcluster-top")
            val pidFile = dir.resolve("hello.pid").toString()
            val port = ServerSocket(0).use { it.localPort }
            val watcher =
                ProcessBuilder(
                        cli(
                            "--workers",
                            "2",
                            "--pid-file",
                            pidFile,
                            "--jvm-opt",
                            "-Xmx64m",
                            "--jvm-opt",
                            "-XX:+UseSerialGC",
                            "--jvm-opt",
                            "-XX:TieredStopAtLevel=1",
                            "dev.kcluster.samples.HelloHttp",
                            "--port",
                            port.toString(),
                        )
                    )
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(dir.resolve("watcher.log").toFile())
                    .start()
            try {
                awaitUntil("2 workers READY", 60_000, pollMillis = 200) {
                    Regex("READY").findAll(run(cli("status", "-p", pidFile))).count() >= 2
                }
                tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "30", "sh")
                // The command line (a long classpath) goes in a script: send-keys types only a short line.
                val script = dir.resolve("top.sh")
                Files.writeString(
                    script,
                    "exec " + cli("top", "-p", pidFile).joinToString(" ") { "'" + it.replace("'", "'\\''") + "'" } + "\n",
                )
                tmux("send-keys", "-t", session, "sh $script; echo top-exited", "Enter")
                try {
                    awaitUntil("a row per worker", 30_000, pollMillis = 100) { rows().map { it[1] } == listOf("1", "2") }
                } catch (e: AssertionError) {
                    throw AssertionError("screen:\n" + screen().joinToString("\n"), e)
                }
                screen().first { it.isNotBlank() }.contains("2/2 ready") shouldBe true
                run(cli("scale", "-p", pidFile, "3"))
                awaitUntil("a third row after the scale", 30_000, pollMillis = 100) { rows().map { it[1] } == listOf("1", "2", "3") }
                tmux("send-keys", "-t", session, "q")
                awaitUntil("top has quit", 10_000, pollMillis = 100) { screen().any { it.trim() == "top-exited" } }
                tmux("send-keys", "-t", session, "stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon", "Enter")
                awaitUntil("the terminal is cooked again", 10_000, pollMillis = 100) {
                    screen().map { it.trim() }.let { "echo" in it && "icanon" in it }
                }
            } finally {
                runCatching { tmux("kill-session", "-t", session) }
                runCatching { run(cli("stop", "-p", pidFile)) }
                watcher.waitFor(30, TimeUnit.SECONDS)
                watcher.descendants().forEach { it.destroyForcibly() }
                watcher.destroyForcibly()
                dir.toFile().deleteRecursively()
            }
        }
    })
