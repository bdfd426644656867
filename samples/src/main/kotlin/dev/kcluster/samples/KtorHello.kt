package dev.kcluster.samples

import dev.kcluster.Cluster
import dev.kcluster.netty.ClusterKtor
import io.ktor.server.response.header
import io.ktor.server.response.respondText
import io.ktor.server.routing.get
import io.ktor.server.routing.routing

/**
 * A Ktor application (Netty engine) on the cluster socket: `GET /` answers "Hello from Ktor!" with an `X-Worker-Id` header. `--port N`
 * (default 8080) on 127.0.0.1; runs standalone too.
 */
public object KtorHello {
    /** Entry point: `KtorHello [--port N]`. */
    @JvmStatic
    public fun main(args: Array<String>) {
        val port = Args.int(args, "--port", 8080)
        val workerId = Cluster.workerId?.toString() ?: "standalone"
        ClusterKtor.serve("127.0.0.1:$port") {
            routing {
                get("/") {
                    call.response.header("X-Worker-Id", workerId)
                    call.respondText("Hello from Ktor!")
                }
            }
        }
    }
}
