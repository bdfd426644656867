package dev.kcluster.samples

import dev.kcluster.WatcherConfig
import kotlin.time.Duration.Companion.seconds

/** Worker JVM settings for tests on a small, busy machine. */
fun testConfig(main: String, vararg args: String, configure: WatcherConfig.Builder.() -> Unit = {}): WatcherConfig =
    WatcherConfig(main) {
        args(*args)
        jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
        readyTimeout(60.seconds)
        stopTimeout(20.seconds)
        heartbeatTimeout(30.seconds)
        configure()
    }
