package dev.kcluster.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

class TopScreenTest :
    FunSpec({
        test("the header counts serving workers; standbys (slot 0, starting or held) are counted apart and listed last") {
            val status =
                ClusterStatus(
                    watcherPid = 100,
                    target = "com.example.Main",
                    workers =
                        listOf(
                            WorkerStatus(7, 207, "STARTING", 300, 0, slot = 0),
                            WorkerStatus(1, 201, "READY", 5_000, 0, slot = 1),
                            WorkerStatus(2, 202, "READY", 5_000, 0, slot = 2),
                            WorkerStatus(6, 206, "STANDBY", 2_000, 0, slot = 0),
                        ),
                )
            val lines = TopScreen().render(status, now = 0)
            lines[0] shouldBe "cluster pid 100, com.example.Main: 2/2 ready, 2 standbys, 0 req/s   (q quits)"
            lines.drop(3).map { it.split(Regex("\\s{2,}")).take(4) } shouldBe
                listOf(
                    listOf("1", "1", "201", "READY"),
                    listOf("2", "2", "202", "READY"),
                    listOf("-", "6", "206", "STANDBY"),
                    listOf("-", "7", "207", "STARTING"),
                )
        }
    })
