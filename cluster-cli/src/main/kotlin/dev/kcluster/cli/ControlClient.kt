package dev.kcluster.cli

import java.io.IOException
import java.nio.ByteBuffer
import java.nio.channels.Channels
import java.nio.file.Files
import java.nio.file.Path
import org.newsclub.net.unix.AFUNIXSocketAddress
import org.newsclub.net.unix.AFUNIXSocketChannel

/** A control request could not be delivered or answered; the message names the likely fix. */
internal class ControlException(message: String) : Exception(message)

/** Sends one [ControlRequest] to the watcher whose pid file is given and returns its answer. */
internal fun interface ControlTransport {
    /** @throws ControlException when no watcher answers. */
    fun call(pidFile: Path, request: ControlRequest): ControlResponse
}

/** [ControlTransport] over the watcher's `<pid file>.sock`. */
internal object SocketControlTransport : ControlTransport {
    override fun call(pidFile: Path, request: ControlRequest): ControlResponse {
        val pidPath = pidFile.toAbsolutePath().normalize()
        val socket = PidFile.socketPathOf(pidPath)
        if (!Files.exists(pidPath)) {
            throw ControlException("no cluster is running with pid file $pidPath (the file does not exist)")
        }
        val pid = PidFile.read(pidPath)
        if (pid != null && !PidFile.isAlive(pid)) {
            throw ControlException("the cluster with pid file $pidPath is not running (process $pid is gone); remove the stale pid file")
        }
        if (!Files.exists(socket)) {
            throw ControlException("no control socket at $socket; is the cluster with pid file $pidPath still starting or stopping?")
        }
        val ch =
            try {
                AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(socket.toFile()))
            } catch (e: IOException) {
                throw ControlException("cannot connect to the cluster's control socket $socket: ${e.message ?: e}")
            }
        ch.use {
            try {
                val requestLine = ControlProtocol.json.encodeToString(ControlRequest.serializer(), request) + "\n"
                val bytes = ByteBuffer.wrap(requestLine.toByteArray())
                while (bytes.hasRemaining()) ch.write(bytes)
                val line =
                    ControlServer.readLine(Channels.newInputStream(ch).buffered())
                        ?: throw ControlException("the watcher closed the control connection without answering (it may be stopping)")
                return ControlProtocol.json.decodeFromString(ControlResponse.serializer(), line)
            } catch (e: IOException) {
                throw ControlException("control connection to $socket failed: ${e.message ?: e}")
            } catch (e: kotlinx.serialization.SerializationException) {
                throw ControlException("the watcher sent an answer this client does not understand: ${e.message}")
            }
        }
    }
}
