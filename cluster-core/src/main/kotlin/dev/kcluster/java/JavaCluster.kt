package dev.kcluster.java

import dev.kcluster.Cluster
import dev.kcluster.Leadership
import dev.kcluster.Message
import dev.kcluster.MessageCodec
import java.io.IOException
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull

/**
 * The worker side for Java: send `String`, `byte[]` or codec-encoded values to the watcher, and take the watcher's messages with a listener
 * or a blocking [receive]. Everything else is on [Cluster] (`Cluster.serverSocketFactory()`, `Cluster.ready()`,
 * `Cluster.awaitTerminationBlocking()`).
 *
 * Each listener and each [receive] is a collector of [dev.kcluster.WorkerChannel.incoming], with its rules: every listener gets every
 * message, and messages that arrive while nobody listens wait (bounded) for the next listener or [receive]. The sending calls and listeners
 * need a watcher: standalone they throw [IllegalStateException] (check `Cluster.isWorker()`).
 *
 * ```java
 * JavaCluster.onMessage(m -> JavaCluster.sendString("echo " + m.asString()));
 * ```
 */
public object JavaCluster {
    private val listenerThread by lazy { Listeners.thread("kcluster-java-messages") }
    private val scope by lazy {
        CoroutineScope(SupervisorJob() + listenerThread.asCoroutineDispatcher() + CoroutineName("kcluster-java-messages"))
    }

    /** Sends [message] to the watcher. @throws IOException when the watcher is gone. */
    @JvmStatic @Throws(IOException::class) public fun send(message: Message): Unit = Cluster.channel.send(message)

    /** Sends [text] as a `kotlin.String` message (a Kotlin watcher reads it with `decode<String>()`). */
    @JvmStatic @Throws(IOException::class) public fun sendString(text: String): Unit = send(Message.ofString(text))

    /** Sends [bytes] raw as a `kotlin.ByteArray` message. */
    @JvmStatic @Throws(IOException::class) public fun sendBytes(bytes: ByteArray): Unit = send(Message.ofBytes(bytes))

    /** Sends [value] encoded with [codec]. */
    @JvmStatic @Throws(IOException::class) public fun <T> send(value: T, codec: MessageCodec<T>): Unit = send(Message.of(value, codec))

    /** Calls [listener] on a kcluster-owned thread with every message from the watcher, in order. */
    @JvmStatic
    public fun onMessage(listener: Consumer<Message>): Registration {
        val channel = Cluster.channel // fails early when standalone
        val job =
            scope.launch(start = CoroutineStart.UNDISPATCHED) {
                channel.incoming.collect { m -> Listeners.deliver("message", m) { listener.accept(it) } }
            }
        return Registration { job.cancel() }
    }

    /** Calls [listener] with the decoded value of every message of [codec]'s type; other messages are skipped. */
    @JvmStatic
    public fun <T> onMessage(codec: MessageCodec<T>, listener: Consumer<T>): Registration = onMessage { m ->
        if (m.type == codec.type) listener.accept(m.decode(codec))
    }

    /**
     * Calls [listener] on a kcluster-owned thread with this worker's [Cluster.leadership] now and on every change (changes in quick
     * succession may be reported as the latest only). Works standalone too (where it is never leader).
     */
    @JvmStatic
    public fun onLeadership(listener: Consumer<Leadership>): Registration {
        val job = scope.launch { Cluster.leadership.collect { l -> Listeners.deliver("leadership", l) { listener.accept(it) } } }
        return Registration { job.cancel() }
    }

    /** The next message from the watcher, waiting up to [timeout]; null when none came in time or the watcher is gone. */
    @JvmStatic
    @Throws(InterruptedException::class)
    public fun receive(timeout: Duration): Message? {
        val channel = Cluster.channel
        return runBlocking { withTimeoutOrNull(timeout.toMillis().coerceAtLeast(1)) { channel.receive() } }
    }

    /** Completes when this program should stop (see [Cluster.awaitTermination]); the same future on every call. */
    @JvmStatic public fun termination(): CompletableFuture<Void?> = terminationFuture

    private val terminationFuture: CompletableFuture<Void?> by lazy {
        CompletableFuture<Void?>().also { f ->
            Thread(
                    {
                        runCatching { Cluster.awaitTerminationBlocking() }
                        f.complete(null)
                    },
                    "kcluster-java-termination",
                )
                .apply {
                    isDaemon = true
                    start()
                }
        }
    }
}
