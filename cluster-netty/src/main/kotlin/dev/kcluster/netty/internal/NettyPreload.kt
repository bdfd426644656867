package dev.kcluster.netty.internal

import dev.kcluster.internal.worker.WorkerPreload

/**
 * Initialises Netty's static state in a worker while it connects to the watcher (see [WorkerPreload]): the platform probes
 * (`PlatformDependent`), the default pooled allocator, the NIO event loop, channel and bootstrap classes, and the HTTP/1 codec, in the
 * order a server's start meets them. Measured here (HelloHttp, class cache on, 2 cores, same-run A/Bs): SIGKILL of a worker to its
 * replacement's first answer without a standby 0.77x on JDK 25 and 0.91x on JDK 17; launch 0.97x and 0.99x (3 JVMs start on 2 cores).
 */
internal class NettyPreload : WorkerPreload {
    override fun preload() {
        val loader = NettyPreload::class.java.classLoader
        for (name in CLASSES) runCatching { Class.forName(name, true, loader) }
    }

    private companion object {
        val CLASSES =
            listOf(
                "io.netty.util.internal.logging.InternalLoggerFactory",
                "io.netty.util.internal.PlatformDependent0",
                "io.netty.util.internal.PlatformDependent",
                "io.netty.util.ResourceLeakDetector",
                "io.netty.util.AttributeKey",
                "io.netty.util.concurrent.DefaultPromise",
                "io.netty.util.concurrent.GlobalEventExecutor",
                "io.netty.buffer.ByteBufAllocator",
                "io.netty.buffer.PooledByteBufAllocator",
                "io.netty.buffer.Unpooled",
                "io.netty.channel.ChannelOption",
                "io.netty.channel.DefaultChannelPipeline",
                "io.netty.channel.nio.NioEventLoop",
                "io.netty.channel.nio.NioEventLoopGroup",
                "io.netty.channel.socket.nio.NioServerSocketChannel",
                "io.netty.channel.socket.nio.NioSocketChannel",
                "io.netty.bootstrap.ServerBootstrap",
                "io.netty.channel.group.DefaultChannelGroup",
                "io.netty.handler.codec.http.HttpObjectDecoder",
                "io.netty.handler.codec.http.HttpServerCodec",
                "io.netty.handler.codec.http.HttpResponseStatus",
                "io.netty.handler.codec.http.HttpHeaderNames",
                "io.netty.handler.codec.http.HttpHeaderValues",
                "io.netty.handler.codec.http.DefaultFullHttpResponse",
            )
    }
}
