package dev.kcluster.internal.supervisor

import dev.kcluster.WorkerState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf

class LifeTest :
    FunSpec({
        val end = { code: Int -> LifeEvent.ProcessEnded(code, null, "last stderr line") }

        test("a worker that becomes READY and is stopped exits as expected") {
            val exited =
                Life.Starting.on(LifeEvent.ReportedReady)
                    .also { it shouldBe Life.Ready }
                    .on(LifeEvent.StopRequested)
                    .also { it.state shouldBe WorkerState.DRAINING }
                    .on(end(0))
                    .shouldBeInstanceOf<Life.Exited>()
            exited.reason.expected shouldBe true
            exited.reason.detail shouldBe null
            exited.state shouldBe WorkerState.STOPPED
            exited.stoppedItself shouldBe false
        }

        test("an exit without a stop is a crash, explained by stderr, and a signal is decoded") {
            val exited = Life.Ready.on(end(137)).shouldBeInstanceOf<Life.Exited>()
            exited.reason.expected shouldBe false
            exited.reason.signal shouldBe 9
            exited.reason.detail shouldBe "last stderr line"
            exited.state shouldBe WorkerState.CRASHED
        }

        test("a worker that stops itself stays self-stopped even when the watcher asks too") {
            val exited = Life.Ready.on(LifeEvent.StoppingItself).on(LifeEvent.StopRequested).on(end(0)).shouldBeInstanceOf<Life.Exited>()
            exited.stoppedItself shouldBe true
            exited.reason.expected shouldBe true
        }

        test("an unresponsive worker's exit is a crash carrying the heartbeat detail, whatever came between") {
            val hung = Life.Ready.on(LifeEvent.MissedHeartbeats("no heartbeat answer for 2000 ms"))
            hung.state shouldBe WorkerState.READY
            hung.on(LifeEvent.StopRequested) shouldBe hung
            val exited = hung.on(LifeEvent.ProcessEnded(137, null, null)).shouldBeInstanceOf<Life.Exited>()
            exited.reason.expected shouldBe false
            exited.reason.detail shouldBe "no heartbeat answer for 2000 ms"
        }

        test("a process gone unasked is a crash even when a stop comes before its exit is reported; a draining one stays expected") {
            val gone = Life.Ready.on(LifeEvent.ProcessGone)
            gone shouldBe Life.Gone(WorkerState.READY)
            gone.state shouldBe WorkerState.READY
            listOf(LifeEvent.StopRequested, LifeEvent.StoppingItself, LifeEvent.ReportedReady, LifeEvent.Promoted).forEach {
                gone.on(it) shouldBe gone
            }
            val exited = gone.on(LifeEvent.StopRequested).on(end(137)).shouldBeInstanceOf<Life.Exited>()
            exited.reason.expected shouldBe false
            exited.reason.detail shouldBe "last stderr line"
            Life.Standby.on(LifeEvent.ProcessGone).state shouldBe WorkerState.STANDBY
            Life.Ready.on(LifeEvent.StopRequested)
                .on(LifeEvent.ProcessGone)
                .on(end(0))
                .shouldBeInstanceOf<Life.Exited>()
                .reason
                .expected shouldBe true
            val hung = Life.Ready.on(LifeEvent.MissedHeartbeats("no heartbeat answer"))
            hung.on(LifeEvent.ProcessGone) shouldBe hung
        }

        test("nothing leaves Exited") {
            val exited = Life.Starting.on(end(1))
            listOf(LifeEvent.ReportedReady, LifeEvent.StopRequested, LifeEvent.StoppingItself, end(0)).forEach {
                exited.on(it) shouldBe exited
            }
        }

        test("a standby is held after HELD, goes back to Starting on promotion, then READY") {
            val held = Life.Starting.on(LifeEvent.Held)
            held shouldBe Life.Standby
            held.state shouldBe WorkerState.STANDBY
            held.on(LifeEvent.ReportedReady) shouldBe Life.Standby
            held.on(LifeEvent.Promoted).on(LifeEvent.ReportedReady) shouldBe Life.Ready
            Life.Ready.on(LifeEvent.Held) shouldBe Life.Ready
        }

        test("a standby that dies is a crash; one that is stopped exits as expected") {
            Life.Standby.on(end(1)).shouldBeInstanceOf<Life.Exited>().reason.expected shouldBe false
            Life.Standby.on(LifeEvent.StopRequested).on(end(0)).shouldBeInstanceOf<Life.Exited>().reason.expected shouldBe true
        }
    })
