package dev.kcluster

import java.io.IOException

/**
 * A peer broke the kcluster wire protocol: a malformed, oversized, truncated or unknown frame, a failed handshake, or a frame that arrived
 * without the file descriptor it must carry.
 *
 * It fails the one connection it happened on, never the process.
 */
public class ProtocolException(message: String, cause: Throwable? = null) : IOException(message, cause)
