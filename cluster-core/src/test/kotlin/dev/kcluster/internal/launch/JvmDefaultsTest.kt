package dev.kcluster.internal.launch

import dev.kcluster.ClassCache
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import java.nio.file.Files
import java.nio.file.Path

class JvmDefaultsTest :
    FunSpec({
        test("a cluster of 4 gets every lean default, the heap bound shared out") {
            JvmDefaults.forWorkers(4, emptyList()) shouldContainExactly listOf("-XX:+UseSerialGC", "-XX:MaxRAMPercentage=12.50", "-Xss512k")
        }

        test("a user option for the same setting replaces the default, whatever its spelling") {
            JvmDefaults.forWorkers(2, listOf("-XX:+UseG1GC", "-XX:MaxHeapSize=1g", "-XX:ThreadStackSize=1024")) shouldContainExactly
                emptyList()
            JvmDefaults.forWorkers(2, listOf("-Xmx256m", "-Xss1m", "-XX:-UseSerialGC")) shouldContainExactly emptyList()
            JvmDefaults.forWorkers(1000, listOf("-Dx=1")).first { it.contains("MaxRAM") } shouldBe "-XX:MaxRAMPercentage=1.00"
        }

        test("JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS count as user options") {
            JvmDefaults.environmentOptions(
                mapOf("JAVA_TOOL_OPTIONS" to " -Xmx1g  -XX:+UseZGC", "JDK_JAVA_OPTIONS" to "-Xss2m", "OTHER" to "-Xms1g")
            ) shouldContainExactly listOf("-Xmx1g", "-XX:+UseZGC", "-Xss2m")
        }

        test("JDK-release options only for the releases that need them, unless the user sets them") {
            val home = Files.createTempDirectory("jdk")
            try {
                fun runtime(v: String) = JavaRuntime("java", home.resolve("bin/java"), v)
                JvmDefaults.forRuntime(runtime("17.0.15+6"), emptyList()) shouldContainExactly emptyList()
                JvmDefaults.forRuntime(runtime("25.0.3+9-LTS"), emptyList()) shouldContainExactly
                    listOf("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow")
                JvmDefaults.forRuntime(runtime("25"), listOf("--sun-misc-unsafe-memory-access=warn")) shouldContainExactly
                    listOf("--enable-native-access=ALL-UNNAMED")
                runtime("1.8.0_402").feature shouldBe 8
            } finally {
                home.toFile().deleteRecursively()
            }
        }

        test("the JDK version comes from the release file beside bin/") {
            val home = Files.createTempDirectory("jdk")
            try {
                Files.createDirectories(home.resolve("bin"))
                val java = Files.writeString(home.resolve("bin/java"), "#!/bin/sh\nexit 1\n")
                java.toFile().setExecutable(true)
                Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"21.0.2\"\n")
                JavaRuntime.of(java.toString()).feature shouldBe 21
            } finally {
                home.toFile().deleteRecursively()
            }
        }

        test("--class-cache values") {
            ClassCache.parse("auto") shouldBe ClassCache.AUTO
            ClassCache.parse("OFF") shouldBe ClassCache.OFF
            ClassCache.parse("/tmp/x").directory shouldBe Path.of("/tmp/x")
            shouldThrow<IllegalArgumentException> { ClassCache.parse(" ") }
        }
    })
