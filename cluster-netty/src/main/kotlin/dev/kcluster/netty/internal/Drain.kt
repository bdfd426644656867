package dev.kcluster.netty.internal

import io.netty.buffer.ByteBuf
import io.netty.channel.Channel
import io.netty.channel.ChannelDuplexHandler
import io.netty.channel.ChannelFutureListener
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInboundHandlerAdapter
import io.netty.channel.ChannelPipeline
import io.netty.channel.ChannelPromise
import io.netty.channel.socket.DuplexChannel
import io.netty.handler.codec.http.HttpHeaderNames
import io.netty.handler.codec.http.HttpHeaderValues
import io.netty.handler.codec.http.HttpRequest
import io.netty.handler.codec.http.HttpRequestDecoder
import io.netty.handler.codec.http.HttpResponse
import io.netty.handler.codec.http.HttpResponseEncoder
import io.netty.handler.codec.http.HttpResponseStatus
import io.netty.handler.codec.http.HttpServerCodec
import io.netty.handler.codec.http.HttpStatusClass
import io.netty.handler.codec.http.LastHttpContent
import io.netty.util.AttributeKey
import io.netty.util.ReferenceCountUtil
import java.util.concurrent.TimeUnit

/**
 * Per-connection drain state, touched only on the connection's event loop. Two handlers share it: [ActivityHandler] at the head of the
 * pipeline (raw bytes: partial requests count as activity, late bytes are discarded while lingering) and [HttpDrainHandler] right after the
 * HTTP codec (requests in progress, `Connection: close` on responses while draining).
 */
internal class ConnectionState(
    val channel: Channel,
    val drain: DrainControl,
    /** A standby's warm-up connection (see [StandbyWarmup]): not counted in the worker's load or HTTP metrics. */
    val warmup: Boolean = false,
) {
    var lastActivity: Long = System.nanoTime()
    var http = false
    var upgraded = false
    var pending = 0
    var closeAfterResponse = false
    var closing = false

    /** Called on the event loop when the drain starts, and again by its own timer. */
    fun checkIdle() {
        if (closing || !channel.isOpen) return
        if (!http || upgraded) return // not HTTP: the drain waits for it, then closes it at the timeout
        if (pending > 0) return // its response will carry Connection: close and end it
        val quietSince = maxOf(lastActivity, drain.startedAt)
        val left = drain.idleGraceNanos - (System.nanoTime() - quietSince)
        if (left <= 0) lingeringClose() else channel.eventLoop().schedule(::checkIdle, left, TimeUnit.NANOSECONDS)
    }

    /** FIN our side, keep reading (and discarding) until the peer's FIN or the linger timeout, then close. */
    fun lingeringClose() {
        if (closing) return
        closing = true
        val ch = channel
        if (ch is DuplexChannel && ch.isActive) {
            ch.shutdownOutput().addListener { f -> if (!f.isSuccess) ch.close() }
            ch.eventLoop().schedule({ ch.close() }, drain.lingerNanos, TimeUnit.NANOSECONDS)
        } else {
            ch.close()
        }
    }

    companion object {
        val KEY: AttributeKey<ConnectionState> = AttributeKey.valueOf("kcluster.drain")
    }
}

/** What the connections need to know about the server-wide drain. */
internal interface DrainControl {
    val draining: Boolean
    val startedAt: Long
    val idleGraceNanos: Long
    val lingerNanos: Long
}

/**
 * Head of every connection's pipeline: records activity; discards input once the connection is closing; counts the connection for the
 * worker's load report ([dev.kcluster.Cluster.connectionOpened]).
 */
internal class ActivityHandler(private val state: ConnectionState) : ChannelInboundHandlerAdapter() {
    private var counted = false

    override fun channelActive(ctx: ChannelHandlerContext) {
        if (!counted && !state.warmup) {
            counted = true
            dev.kcluster.Cluster.connectionOpened()
            HttpMetrics.opened()
        }
        ctx.fireChannelActive()
    }

    override fun handlerAdded(ctx: ChannelHandlerContext) {
        if (ctx.channel().isActive && !counted && !state.warmup) {
            counted = true
            dev.kcluster.Cluster.connectionOpened()
            HttpMetrics.opened()
        }
    }

    override fun channelInactive(ctx: ChannelHandlerContext) {
        if (counted) {
            counted = false
            dev.kcluster.Cluster.connectionClosed()
            HttpMetrics.closed()
        }
        ctx.fireChannelInactive()
    }

    override fun channelRead(ctx: ChannelHandlerContext, msg: Any) {
        state.lastActivity = System.nanoTime()
        if (state.closing && msg is ByteBuf) {
            ReferenceCountUtil.release(msg)
            return
        }
        ctx.fireChannelRead(msg)
    }

    override fun isSharable(): Boolean = false
}

/**
 * After the HTTP codec: counts requests in progress; while draining, marks the response that leaves the connection idle `Connection:
 * close`, closes (lingering) once it is written, and drops requests that arrive after it (a client must not send them after `Connection:
 * close`).
 */
internal class HttpDrainHandler(private val state: ConnectionState) : ChannelDuplexHandler() {
    private var informational = false
    private var dropping = false
    /** Start times of the requests in progress (pipelined ones queue), only while metrics are on. */
    private val started = if (HttpMetrics.enabled && !state.warmup) java.util.ArrayDeque<Long>(2) else null
    private var status = 0

    override fun channelRead(ctx: ChannelHandlerContext, msg: Any) {
        if (state.upgraded) {
            ctx.fireChannelRead(msg)
            return
        }
        if (msg is HttpRequest) {
            dropping = state.closeAfterResponse || state.closing
            if (!dropping) {
                state.pending++
                if (!state.warmup) dev.kcluster.Cluster.countRequest()
                started?.addLast(System.nanoTime())
            }
        }
        if (dropping) {
            ReferenceCountUtil.release(msg)
            return
        }
        ctx.fireChannelRead(msg)
    }

    override fun write(ctx: ChannelHandlerContext, msg: Any, promise: ChannelPromise) {
        if (state.upgraded) {
            ctx.write(msg, promise)
            return
        }
        if (msg is HttpResponse) {
            val status = msg.status()
            informational = status.codeClass() == HttpStatusClass.INFORMATIONAL
            if (!informational) this.status = status.code()
            if (status == HttpResponseStatus.SWITCHING_PROTOCOLS) {
                state.upgraded = true
                state.pending = 0
                ctx.write(msg, promise)
                return
            }
            if (!informational && state.drain.draining && state.pending <= 1) {
                msg.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                state.closeAfterResponse = true
            } else if (
                !informational && HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(msg.headers().get(HttpHeaderNames.CONNECTION) ?: "")
            ) {
                state.closeAfterResponse = true
            }
        }
        if (msg is LastHttpContent) {
            if (informational) {
                informational = false
                ctx.write(msg, promise)
                return
            }
            state.pending = maxOf(0, state.pending - 1)
            started?.pollFirst()?.let { t0 -> HttpMetrics.record(status, System.nanoTime() - t0) }
            state.lastActivity = System.nanoTime()
            ctx.write(msg, promise)
            if (state.closeAfterResponse && state.pending == 0) {
                promise.addListener(ChannelFutureListener { state.lingeringClose() })
            } else if (state.drain.draining && state.pending == 0) {
                state.checkIdle()
            }
            return
        }
        ctx.write(msg, promise)
    }
}

/** Installs the drain handlers in a connection's pipeline; returns its state. */
internal fun installDrainHandlers(ch: Channel, drain: DrainControl, warmup: Boolean = false): ConnectionState {
    val state = ConnectionState(ch, drain, warmup)
    ch.attr(ConnectionState.KEY).set(state)
    val p: ChannelPipeline = ch.pipeline()
    p.addFirst("kcluster-activity", ActivityHandler(state))
    installHttpDrain(p, state)
    return state
}

/** Adds [HttpDrainHandler] right after the HTTP codec, when the pipeline has one (now or later). */
internal fun installHttpDrain(p: ChannelPipeline, state: ConnectionState): Boolean {
    if (state.http) return true
    val codec = p.context(HttpServerCodec::class.java)
    val name =
        if (codec != null) {
            codec.name()
        } else {
            val decoder = p.context(HttpRequestDecoder::class.java) ?: return false
            val encoder = p.context(HttpResponseEncoder::class.java) ?: return false
            val names = p.names()
            if (names.indexOf(decoder.name()) > names.indexOf(encoder.name())) decoder.name() else encoder.name()
        }
    p.addAfter(name, "kcluster-http-drain", HttpDrainHandler(state))
    state.http = true
    return true
}
