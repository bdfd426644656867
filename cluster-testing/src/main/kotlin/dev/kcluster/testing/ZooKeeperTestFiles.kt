package dev.kcluster.testing

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant

/**
 * ZooKeeper 3.9's embedded server, which Apache Curator's `TestingServer` and `TestingCluster` run, writes a
 * `zookeeper.configuration<random>.properties` file into the temporary directory at every start and restart and never deletes it.
 */
public object ZooKeeperTestFiles {
    private val jvmStart: Instant = ProcessHandle.current().info().startInstant().orElse(Instant.EPOCH)

    /** Deletes the configuration files that servers wrote since this JVM started; call it after closing them. Returns how many. */
    @JvmStatic
    @JvmOverloads
    public fun clean(dir: Path = Path.of(System.getProperty("java.io.tmpdir"))): Int {
        val files =
            Files.newDirectoryStream(dir, "zookeeper.configuration*.properties").use { s ->
                s.filter { runCatching { Files.getLastModifiedTime(it).toInstant() >= jvmStart.minusSeconds(1) }.getOrDefault(false) }
            }
        return files.count { runCatching { Files.deleteIfExists(it) }.getOrDefault(false) }
    }
}
