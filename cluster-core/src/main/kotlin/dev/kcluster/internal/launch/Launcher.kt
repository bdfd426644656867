package dev.kcluster.internal.launch

import dev.kcluster.ClusterException
import dev.kcluster.SocketMode
import dev.kcluster.WatcherConfig
import dev.kcluster.internal.log.LogOutput
import dev.kcluster.internal.systemd.SocketActivation
import dev.kcluster.internal.worker.WorkerMain
import dev.kcluster.internal.worker.WorkerRuntime
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.jar.JarFile

/**
 * Builds worker command lines from a [WatcherConfig]; the key never goes here (it goes on stdin). A worker gets `java <lean defaults>
 * <jvmOptions> <class-data archive> <launch options> -cp … WorkerMain main args`.
 */
internal class Launcher(private val config: WatcherConfig) {
    val mainClass: String
    private val classpath: String
    private val settings: WorkerSettings
        get() = WorkerSettings.of(config)

    private val userOptions: List<String>
        get() = settings.jvmOptions + JvmDefaults.environmentOptions(System.getenv() + settings.environment)

    /** The workers' class-data archive; null when the cache is off or cannot work with this setup. */
    val archive: ArchiveCache?
    private val java: JavaRuntime?
    @Volatile private var trained = false

    /** With the class cache on: where workers load junixsocket's library from (see [NativeLibraryCopy]); null until it is known. */
    @Volatile private var nativeLibrary: String? = null

    init {
        val entries = mutableListOf<String>()
        if (config.target.endsWith(".jar")) {
            val jar = Path.of(config.target).toAbsolutePath()
            if (!Files.isRegularFile(jar)) throw ClusterException("jar not found: ${config.target}")
            mainClass =
                try {
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
        // Unknown (e.g. a wrapper script without a JDK around it): no archive, no version-specific options.
        java = runCatching { JavaRuntime.of(config.javaCommand) }.getOrNull()
        // The key holds the options of a 1-worker cluster: the heap share (per size) does not matter to an archive.
        archive = java?.let { ArchiveCache.of(config.classCache, it, mainClass, classpath, jvmOptions(1), userOptions) }
        archive
            ?.let { a ->
                NativeLibraryCopy.option(classpath, a.archive.parent, a.archive.resolveSibling("${a.archive.fileName}.native")) {
                    nativeLibrary = it
                }
            }
            ?.let { nativeLibrary = it }
    }

    private fun jvmOptions(clusterSize: Int): List<String> =
        (if (config.jvmDefaults) JvmDefaults.forWorkers(clusterSize, userOptions) else emptyList()) +
            JvmDefaults.forRuntime(java, userOptions) +
            settings.jvmOptions

    /**
     * The training run that creates the archive when it is missing or stale, or null when there is nothing to do (cache off, archive valid,
     * or already tried by this watcher). The supervisor runs it once in the background after the first start is READY; later launches use
     * the archive.
     */
    fun trainer(clusterSize: Int): ArchiveTrainer? {
        val cache = archive ?: return null
        if (trained || !cache.needsTraining()) return null
        trained = true
        return ArchiveTrainer(cache, config.startTimeout.toMillis(), config.readyTimeout.toMillis(), config.maxFrameSize) {
            id,
            socket,
            extra ->
            start(id, socket, clusterSize, training = extra)
        }
    }

    /** Starts a worker; [training] non-null starts the archive's training run with those options instead (niced, shared sockets). */
    fun start(workerId: Int, socket: Path, clusterSize: Int, standby: Boolean = false, training: List<String>? = null): Process {
        val cmd = mutableListOf<String>()
        if (training != null && Files.isExecutable(NICE)) cmd += listOf(NICE.toString(), "-n", "10")
        cmd += config.javaCommand
        cmd += jvmOptions(clusterSize)
        cmd += training ?: archive?.useOptions().orEmpty()
        nativeLibrary?.let { cmd += it }
        cmd += ArchiveCache.LAUNCH_OPTIONS
        cmd += listOf("-cp", classpath, WorkerMain::class.java.name, mainClass)
        cmd += settings.args
        val pb = ProcessBuilder(cmd)
        config.workingDirectory?.let { pb.directory(it.toFile()) }
        val env = pb.environment()
        env.putAll(settings.environment)
        // What systemd passed to the watcher (activated sockets, the notify socket) is not the workers'.
        (SocketActivation.VARIABLES + listOf("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")).forEach(env::remove)
        env[WorkerRuntime.ENV_SOCKET] = socket.toString()
        env[WorkerRuntime.ENV_ID] = workerId.toString()
        if (standby) env[WorkerRuntime.ENV_STANDBY] = "1"
        config.metricsAddress?.let {
            env[dev.kcluster.internal.metrics.MetricsExtension.ENV_INTERVAL] = config.metricsInterval.toMillis().toString()
        }
        if (config.maxMemory > 0) env[WorkerRuntime.ENV_MAX_HEAP] = config.maxMemory.toString()
        env[WorkerRuntime.ENV_WORKERS] = clusterSize.toString()
        env[WorkerRuntime.ENV_READY] = config.readyPolicy.name
        env[WorkerRuntime.ENV_MAX_FRAME] = config.maxFrameSize.toString()
        env[WorkerRuntime.ENV_ORPHAN_GRACE] = config.orphanExitGrace.toMillis().toString()
        // A training worker must never bind the real port itself: it asks the trainer, which redirects.
        env[WorkerRuntime.ENV_SOCKET_MODE] = if (config.socketMode == SocketMode.REUSE_PORT && training == null) "reuseport" else "shared"
        env["KCLUSTER_LOG_LEVEL"] = LogOutput.levelName(LogOutput.threshold).lowercase()
        return pb.start()
    }

    private companion object {
        val NICE: Path = Path.of("/usr/bin/nice")
    }
}
