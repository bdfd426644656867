package dev.kcluster.logging

import dev.kcluster.testing.ApiDump
import io.kotest.core.spec.style.FunSpec
import java.nio.file.Path

class ApiDumpTest :
    FunSpec({
        test("the public API is the one in api/cluster-logging.api") {
            ApiDump.verify(Path.of("target/classes"), Path.of("api/cluster-logging.api"))
        }
    })
