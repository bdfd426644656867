package dev.kcluster.zookeeper

import dev.kcluster.testing.ApiDump
import io.kotest.core.spec.style.FunSpec
import java.nio.file.Path

class ApiDumpTest :
    FunSpec({
        test("the public API is the one in api/cluster-zookeeper.api") {
            ApiDump.verify(Path.of("target/classes"), Path.of("api/cluster-zookeeper.api"))
        }
    })
