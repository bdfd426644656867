package dev.kcluster.internal.net

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.InputStream

class HttpProbeTest :
    FunSpec({
        /** [text] in reads of at most [step] bytes; reading past its end fails, unless it ends with `<close>` (then EOF). */
        fun stream(text: String, step: Int = 7): InputStream {
            val bytes = text.toByteArray()
            var at = 0
            return object : InputStream() {
                override fun read(): Int = throw UnsupportedOperationException()

                override fun read(b: ByteArray, off: Int, len: Int): Int {
                    check(at < bytes.size || text.endsWith("<close>")) { "read past the end of the response" }
                    if (at >= bytes.size) return -1
                    val n = minOf(len, step, bytes.size - at)
                    System.arraycopy(bytes, at, b, off, n)
                    at += n
                    return n
                }
            }
        }

        test("the probe finds the end of a response by its length, its last chunk, its status or the close, and skips a 100") {
            HttpProbe.readResponse(stream("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")) shouldBe "HTTP/1.1 200 OK"
            HttpProbe.readResponse(stream("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")) shouldBe "HTTP/1.1 404 Not Found"
            HttpProbe.readResponse(stream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")) shouldBe
                "HTTP/1.1 200 OK"
            HttpProbe.readResponse(stream("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")) shouldBe
                "HTTP/1.1 204 No Content"
            HttpProbe.readResponse(stream("HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n")) shouldBe "HTTP/1.1 304 Not Modified"
            HttpProbe.readResponse(stream("HTTP/1.0 200 OK\r\n\r\nuntil the close<close>")) shouldBe "HTTP/1.0 200 OK"
        }

        test("a 100 and the final response in one read: no read after it") {
            HttpProbe.readResponse(
                stream("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", step = 8192)
            ) shouldBe "HTTP/1.1 200 OK"
        }
    })
