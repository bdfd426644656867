package dev.kcluster.cli

import dev.kcluster.cli.systemd.NotifySocket
import dev.kcluster.cli.systemd.SystemdNotifier
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

class SystemdNotifyTest :
    FunSpec({
        test(
            "NOTIFY_SOCKET is a path or an @abstract address; anything else is refused with the reason, and ignored from the environment"
        ) {
            NotifySocket.parse("/run/systemd/notify").path shouldBe "/run/systemd/notify"
            NotifySocket.parse("@notify").isInAbstractNamespace shouldBe true
            shouldThrow<IllegalArgumentException> { NotifySocket.parse("relative/notify") }.message shouldContain "absolute path"
            NotifySocket.fromEnvironment(mapOf("NOTIFY_SOCKET" to "relative")) shouldBe null
            NotifySocket.fromEnvironment(emptyMap()) shouldBe null
        }

        test("a send to a socket that is not there is skipped, not thrown") {
            NotifySocket(NotifySocket.parse("/nonexistent/kcluster-notify.sock")).use { it.send("READY=1") shouldBe false }
        }

        test("WATCHDOG_USEC counts only when WATCHDOG_PID is unset or this process") {
            SystemdNotifier.watchdogMicros(mapOf("WATCHDOG_USEC" to "2000000"), pid = 42) shouldBe 2_000_000L
            SystemdNotifier.watchdogMicros(mapOf("WATCHDOG_USEC" to "2000000", "WATCHDOG_PID" to "42"), pid = 42) shouldBe 2_000_000L
            SystemdNotifier.watchdogMicros(mapOf("WATCHDOG_USEC" to "2000000", "WATCHDOG_PID" to "43"), pid = 42) shouldBe null
            SystemdNotifier.watchdogMicros(mapOf("WATCHDOG_USEC" to "x"), pid = 42) shouldBe null
        }
    })
