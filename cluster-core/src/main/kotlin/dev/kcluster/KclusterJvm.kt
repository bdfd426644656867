package dev.kcluster

/** What a JVM needs to run kcluster code that receives sockets; the launcher passes it to every worker. */
@InternalKclusterApi
public object KclusterJvm {
    /**
     * The JVM options that let kcluster wrap received descriptors in genuine JDK NIO channels: `--add-opens
     * java.base/sun.nio.ch=ALL-UNNAMED`, as two command-line words.
     */
    @JvmField public val ADD_OPENS: List<String> = listOf("--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED")
}
