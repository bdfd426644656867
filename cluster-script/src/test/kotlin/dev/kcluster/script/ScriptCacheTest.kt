package dev.kcluster.script

import dev.kcluster.script.internal.CompiledScriptDir
import dev.kcluster.script.internal.ScriptCache
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions

class ScriptCacheTest :
    FunSpec({
        val root = Files.createTempDirectory("kcl-script-cache")
        afterSpec { root.toFile().deleteRecursively() }
        val cache = ScriptCache(root.resolve("kcluster").resolve("scripts"))

        test("the key changes with the text, the name, the Kotlin version and the classpath, and only with them") {
            val jar = Files.writeString(root.resolve("a.jar"), "x")
            val k = cache.key("a.cluster.kts", "workers(1)", "2.2.21", listOf(jar))
            cache.key("a.cluster.kts", "workers(1)", "2.2.21", listOf(jar)) shouldBe k
            cache.key("a.cluster.kts", "workers(2)", "2.2.21", listOf(jar)) shouldNotBe k
            cache.key("b.cluster.kts", "workers(1)", "2.2.21", listOf(jar)) shouldNotBe k
            cache.key("a.cluster.kts", "workers(1)", "2.3.0", listOf(jar)) shouldNotBe k
            Files.writeString(jar, "longer")
            cache.key("a.cluster.kts", "workers(1)", "2.2.21", listOf(jar)) shouldNotBe k
        }

        test("a stored entry is found whole, in a 0700 directory, and is dropped once a dependency jar is gone") {
            val dep = Files.writeString(root.resolve("dep.jar"), "x")
            cache.lookup("k1") shouldBe null
            val stored = cache.store("k1", "A_cluster", mapOf("A_cluster.class" to byteArrayOf(1, 2, 3)), listOf(dep))
            PosixFilePermissions.toString(Files.getPosixFilePermissions(cache.root)) shouldBe "rwx------"
            val found = cache.lookup("k1")!!
            found.className shouldBe "A_cluster"
            found.dependencies shouldBe listOf(dep.toAbsolutePath())
            Files.readAllBytes(stored.dir.resolve(CompiledScriptDir.CLASSES).resolve("A_cluster.class")).toList() shouldBe
                listOf<Byte>(1, 2, 3)
            Files.list(cache.root).use { s -> s.map { it.fileName.toString() }.toList() } shouldBe listOf("k1") // no temp dirs left
            Files.delete(dep)
            cache.lookup("k1") shouldBe null
            cache.store("k1", "A_cluster", mapOf("A_cluster.class" to byteArrayOf(4)), emptyList()).className shouldBe "A_cluster"
            cache.lookup("k1")!!.dependencies shouldBe emptyList()
        }

        test("compiler output that would escape the entry is refused") {
            runCatching { cache.store("k2", "X", mapOf("../../evil.class" to byteArrayOf(0)), emptyList()) }.isFailure shouldBe true
            Files.exists(cache.root.resolve("k2")) shouldBe false
        }

        test("the cache lives under XDG_CACHE_HOME when it is absolute, else under ~/.cache") {
            ScriptCache.defaultRoot(mapOf("XDG_CACHE_HOME" to "/x/cache"), "/home/u") shouldBe Path.of("/x/cache/kcluster/scripts")
            ScriptCache.defaultRoot(mapOf("XDG_CACHE_HOME" to "relative"), "/home/u") shouldBe Path.of("/home/u/.cache/kcluster/scripts")
            ScriptCache.defaultRoot(emptyMap(), "/home/u") shouldBe Path.of("/home/u/.cache/kcluster/scripts")
        }
    })
