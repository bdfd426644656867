package dev.kcluster.internal.ipc

/** Frame types on the wire (`u32 length | u8 type | payload`). Codes are part of the protocol. */
internal enum class FrameType(val code: Int, val carriesFd: Boolean = false) {
    HELLO(1),
    WELCOME(2),
    REJECT(3),
    READY(10),
    MESSAGE(11),
    LOG(12),
    HELD(13),
    PROMOTE(14),
    LISTEN(20),
    LISTEN_OK(21, carriesFd = true),
    LISTEN_ERR(22),
    LISTEN_BALANCED(23),
    UNLISTEN(24),
    CLIENT_SOCKET(30, carriesFd = true),
    ACCEPTED(31, carriesFd = true),
    PING(40),
    PONG(41),
    STATS(42),
    METRICS(43),
    STOP(50),
    STOPPING(51),
    EXIT_REASON(52),
    /** Worker to watcher: "I am exiting; send nothing after your BYE". The watcher answers BYE as its last frame. */
    BYE(53),
    LEADERSHIP(60);

    companion object {
        private val byCode = arrayOfNulls<FrameType>(256).also { table -> entries.forEach { table[it.code] = it } }

        fun of(code: Int): FrameType? = byCode[code and 0xff]
    }
}

internal const val PROTOCOL_VERSION: Int = 1
internal const val HEADER_SIZE: Int = 5
internal const val DEFAULT_MAX_FRAME: Int = 16 * 1024 * 1024
