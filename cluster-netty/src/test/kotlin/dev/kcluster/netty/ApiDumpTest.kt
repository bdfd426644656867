package dev.kcluster.netty

import dev.kcluster.testing.ApiDump
import io.kotest.core.spec.style.FunSpec
import java.nio.file.Path

class ApiDumpTest :
    FunSpec({
        test("the public API is the one in api/cluster-netty.api") {
            ApiDump.verify(Path.of("target/classes"), Path.of("api/cluster-netty.api"))
        }
    })
