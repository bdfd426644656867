package dev.kcluster.java

import dev.kcluster.Cluster
import dev.kcluster.Message
import dev.kcluster.MessageCodec
import kotlinx.coroutines.runBlocking
import java.io.IOException
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.function.Consumer

/**
 * The worker side for Java: send `String`, `byte[]` or codec-encoded values to the watcher, and take
 * the watcher's messages with a listener or a blocking [receive]. Everything else is on [Cluster]
 * (`Cluster.serverSocketFactory()`, `Cluster.ready()`, `Cluster.awaitTerminationBlocking()`).
 *
 * Incoming messages go to the listeners while any are registered, otherwise they queue for [receive];
 * each message goes one way only. The sending calls and listeners need a watcher: standalone they
 * throw [IllegalStateException] (check `Cluster.isWorker()`).
 *
 * ```java
 * JavaCluster.onMessage(m -> JavaCluster.sendString("echo " + m.asString()));
 * ```
 */
public object JavaCluster {
    private val listeners = CopyOnWriteArrayList<Consumer<Message>>()
    private val queue = LinkedBlockingQueue<Message>()
    @Volatile private var pump: Thread? = null
    @Volatile private var ended = false
    private val END = Message.ofBytes(ByteArray(0))

    /** Sends [message] to the watcher. @throws IOException when the watcher is gone. */
    @JvmStatic
    @Throws(IOException::class)
    public fun send(message: Message): Unit = Cluster.channel.send(message)

    /** Sends [text] as a `kotlin.String` message (a Kotlin watcher reads it with `decode<String>()`). */
    @JvmStatic
    @Throws(IOException::class)
    public fun sendString(text: String): Unit = send(Message.ofString(text))

    /** Sends [bytes] raw as a `kotlin.ByteArray` message. */
    @JvmStatic
    @Throws(IOException::class)
    public fun sendBytes(bytes: ByteArray): Unit = send(Message.ofBytes(bytes))

    /** Sends [value] encoded with [codec]. */
    @JvmStatic
    @Throws(IOException::class)
    public fun <T> send(value: T, codec: MessageCodec<T>): Unit = send(Message.of(value, codec))

    /** Calls [listener] on a kcluster-owned thread with every message from the watcher, in order. */
    @JvmStatic
    public fun onMessage(listener: Consumer<Message>): Registration {
        Cluster.channel // fails early when standalone
        listeners += listener
        startPump()
        return Registration { listeners.remove(listener) }
    }

    /** Calls [listener] with the decoded value of every message of [codec]'s type; other messages are skipped. */
    @JvmStatic
    public fun <T> onMessage(codec: MessageCodec<T>, listener: Consumer<T>): Registration =
        onMessage { m -> if (m.type == codec.type) listener.accept(m.decode(codec)) }

    /**
     * The next message from the watcher, waiting up to [timeout]; null when none came in time or the
     * watcher is gone.
     */
    @JvmStatic
    @Throws(InterruptedException::class)
    public fun receive(timeout: Duration): Message? {
        Cluster.channel
        startPump()
        if (ended && queue.isEmpty()) return null
        val m = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS) ?: return null
        if (m === END) {
            queue.offer(END)
            return null
        }
        return m
    }

    /** Completes when this program should stop (see [Cluster.awaitTermination]); the same future on every call. */
    @JvmStatic
    public fun termination(): CompletableFuture<Void?> = terminationFuture

    private val terminationFuture: CompletableFuture<Void?> by lazy {
        CompletableFuture<Void?>().also { f ->
            Thread({
                runCatching { Cluster.awaitTerminationBlocking() }
                f.complete(null)
            }, "kcluster-java-termination").apply { isDaemon = true; start() }
        }
    }

    @Synchronized
    private fun startPump() {
        if (pump != null) return
        val channel = Cluster.channel
        pump = Thread({
            runBlocking {
                while (true) {
                    val m = channel.receive() ?: break
                    if (listeners.isEmpty()) queue.offer(m) else for (l in listeners) Listeners.deliver("message", m) { l.accept(it) }
                }
            }
            ended = true
            queue.offer(END)
        }, "kcluster-java-messages").apply { isDaemon = true; start() }
    }
}
