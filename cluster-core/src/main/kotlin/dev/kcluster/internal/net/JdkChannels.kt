package dev.kcluster.internal.net

import dev.kcluster.InternalKclusterApi
import dev.kcluster.KclusterJvm
import java.io.FileDescriptor
import java.lang.invoke.MethodHandle
import java.lang.invoke.MethodHandles
import java.net.ProtocolFamily
import java.net.SocketAddress
import java.net.SocketOption
import java.net.StandardProtocolFamily
import java.nio.channels.ServerSocketChannel
import java.nio.channels.SocketChannel
import java.nio.channels.spi.SelectorProvider

/**
 * The one place that touches JDK internals: turns received descriptors into genuine JDK NIO channels (registrable with a JDK Selector, so
 * Netty NIO, Ktor and Jetty can use them) and reads the descriptor out of a JDK channel. Needs `--add-opens
 * java.base/sun.nio.ch=ALL-UNNAMED`, which the watcher passes to every worker it launches.
 */
@OptIn(InternalKclusterApi::class)
internal object JdkChannels {
    /** [KclusterJvm.ADD_OPENS], the one definition of the flag. */
    val OPENS_ARGS: List<String> = KclusterJvm.ADD_OPENS
    val OPENS_FLAG: String = OPENS_ARGS.joinToString(" ")

    private class Handles(val serverCtor: MethodHandle, val socketCtor: MethodHandle, val setOption: MethodHandle)

    private val handles: Result<Handles> by lazy {
        runCatching {
            val lookup = MethodHandles.lookup()
            fun ctor(name: String, vararg params: Class<*>): MethodHandle {
                val c = Class.forName(name).getDeclaredConstructor(*params)
                c.isAccessible = true
                return lookup.unreflectConstructor(c)
            }
            val net =
                Class.forName("sun.nio.ch.Net")
                    .getDeclaredMethod(
                        "setSocketOption",
                        FileDescriptor::class.java,
                        ProtocolFamily::class.java,
                        SocketOption::class.java,
                        Any::class.java,
                    )
                    .apply { isAccessible = true }
            Handles(
                ctor(
                    "sun.nio.ch.ServerSocketChannelImpl",
                    SelectorProvider::class.java,
                    ProtocolFamily::class.java,
                    FileDescriptor::class.java,
                    Boolean::class.javaPrimitiveType!!,
                ),
                ctor(
                    "sun.nio.ch.SocketChannelImpl",
                    SelectorProvider::class.java,
                    ProtocolFamily::class.java,
                    FileDescriptor::class.java,
                    SocketAddress::class.java,
                ),
                lookup.unreflect(net),
            )
        }
    }

    private fun handles(): Handles =
        handles.getOrElse {
            throw IllegalStateException(
                "kcluster cannot wrap a received socket in a JDK channel: start this JVM with $OPENS_FLAG " +
                    "(workers launched by kcluster get it automatically; the cluster launcher's jar declares it)",
                it,
            )
        }

    fun family(ipv6: Boolean): ProtocolFamily = if (ipv6) StandardProtocolFamily.INET6 else StandardProtocolFamily.INET

    /**
     * Pays the first-use costs (resolving the method handles, the descriptor reader, one `setsockopt` through them) ahead of need, on a
     * socket of its own that is never bound. A held standby calls this, so that the socket its promotion brings is ready sooner.
     */
    fun warmUp() {
        runCatching {
            handles()
            ServerSocketChannel.open().use { ch ->
                setOption(fdOf(ch), StandardProtocolFamily.INET, java.net.StandardSocketOptions.TCP_NODELAY, true)
            }
        }
    }

    /** A bound, listening JDK [ServerSocketChannel] owning [fd]. */
    fun serverChannel(fd: FileDescriptor, family: ProtocolFamily): ServerSocketChannel =
        handles().serverCtor.invoke(SelectorProvider.provider(), family, fd, true) as ServerSocketChannel

    /** A connected JDK [SocketChannel] owning [fd]. */
    fun socketChannel(fd: FileDescriptor, family: ProtocolFamily, remote: SocketAddress): SocketChannel =
        handles().socketCtor.invoke(SelectorProvider.provider(), family, fd, remote) as SocketChannel

    /** setsockopt on a raw descriptor (e.g. TCP_NODELAY on a listener, inherited by accepted sockets). */
    fun <T> setOption(fd: FileDescriptor, family: ProtocolFamily, option: SocketOption<T>, value: T) {
        handles().setOption.invoke(fd, family, option, value as Any)
    }

    private val unsafe: sun.misc.Unsafe by lazy {
        val f = sun.misc.Unsafe::class.java.getDeclaredField("theUnsafe")
        f.isAccessible = true
        f.get(null) as sun.misc.Unsafe
    }

    /**
     * The descriptor of a JDK socket channel. Works without the opens flag too (the watcher may run in a user's JVM without it): reading a
     * field through Unsafe needs no module access.
     */
    fun fdOf(channel: Any): FileDescriptor {
        if (channel is org.newsclub.net.unix.AFSomeSocketChannel) {
            return (channel as org.newsclub.net.unix.AFSocketChannel<*>).fileDescriptor
        }
        val read = fdReaders.computeIfAbsent(channel.javaClass, ::fdReader)
        return read?.invoke(channel)
            ?: throw IllegalArgumentException("${channel.javaClass.name} is not a JDK socket channel with a descriptor")
    }

    private val fdReaders = java.util.concurrent.ConcurrentHashMap<Class<*>, ((Any) -> FileDescriptor)?>()

    /** How to read the `fd` field of [type]: reflection when the package is open to us, else Unsafe. */
    private fun fdReader(type: Class<*>): ((Any) -> FileDescriptor)? {
        var cls: Class<*>? = type
        while (cls != null) {
            val field = runCatching { cls.getDeclaredField("fd") }.getOrNull()
            if (field != null && field.type == FileDescriptor::class.java) {
                if (runCatching { field.isAccessible = true }.isSuccess) return { ch -> field.get(ch) as FileDescriptor }
                @Suppress("DEPRECATION") val offset = unsafe.objectFieldOffset(field)
                return { ch -> unsafe.getObject(ch, offset) as FileDescriptor }
            }
            cls = cls.superclass
        }
        return null
    }
}
