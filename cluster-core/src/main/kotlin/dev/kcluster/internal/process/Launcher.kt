package dev.kcluster.internal.process

import dev.kcluster.ClusterException
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import dev.kcluster.internal.WorkerMain
import dev.kcluster.internal.WorkerRuntime
import dev.kcluster.internal.log.LogOutput
import dev.kcluster.internal.net.JdkChannels
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.jar.JarFile

/** Builds worker command lines from a [WatcherConfig]; the key never goes here (it goes on stdin). */
internal class Launcher(private val config: WatcherConfig) {
    val mainClass: String
    private val classpath: String

    init {
        val entries = mutableListOf<String>()
        if (config.target.endsWith(".jar")) {
            val jar = Path.of(config.target).toAbsolutePath()
            if (!Files.isRegularFile(jar)) throw ClusterException("jar not found: ${config.target}")
            mainClass = try {
                JarFile(jar.toFile()).use { it.manifest?.mainAttributes?.getValue("Main-Class") }
            } catch (e: Exception) {
                throw ClusterException("cannot read ${config.target} as a jar: ${e.message}", cause = e)
            } ?: throw ClusterException("${config.target} has no Main-Class in its manifest; name the main class instead")
            entries += jar.toString()
        } else {
            mainClass = config.target
        }
        entries += config.classpath
        if (config.inheritClasspath) entries += System.getProperty("java.class.path").split(File.pathSeparator).filter { it.isNotEmpty() }
        classpath = entries.distinct().joinToString(File.pathSeparator)
    }

    fun start(workerId: Int, socket: Path, clusterSize: Int): Process {
        val cmd = mutableListOf(config.javaCommand)
        cmd += config.jvmOptions
        cmd += JdkChannels.OPENS_ARGS
        cmd += listOf("-cp", classpath, WorkerMain::class.java.name, mainClass)
        cmd += config.args
        val pb = ProcessBuilder(cmd)
        config.workingDirectory?.let { pb.directory(it.toFile()) }
        val env = pb.environment()
        env.putAll(config.environment)
        env[WorkerRuntime.ENV_SOCKET] = socket.toString()
        env[WorkerRuntime.ENV_ID] = workerId.toString()
        env[WorkerRuntime.ENV_WORKERS] = clusterSize.toString()
        env[WorkerRuntime.ENV_READY] = config.readyPolicy.name
        env[WorkerRuntime.ENV_MAX_FRAME] = config.maxFrameSize.toString()
        env[WorkerRuntime.ENV_SOCKET_MODE] = if (config.socketMode == SocketMode.REUSE_PORT) "reuseport" else "shared"
        env["KCLUSTER_LOG_LEVEL"] = LogOutput.levelName(LogOutput.threshold).lowercase()
        return pb.start()
    }
}
