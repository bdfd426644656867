package dev.kcluster.cli

import com.typesafe.config.Config
import com.typesafe.config.ConfigException
import com.typesafe.config.ConfigFactory
import com.typesafe.config.ConfigObject
import com.typesafe.config.ConfigParseOptions
import com.typesafe.config.ConfigSyntax
import com.typesafe.config.ConfigValue
import com.typesafe.config.ConfigValueType
import dev.kcluster.ClassCache
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.ExperimentalSerializationApi
import kotlinx.serialization.Serializable
import kotlinx.serialization.SerializationException
import kotlinx.serialization.hocon.Hocon

/** A `--config` file that cannot be used; the message names the file, the line and the key. */
internal class ConfigFileException(message: String) : Exception(message)

/**
 * `cluster run --config FILE`: the command's settings in HOCON (Typesafe Config, as Ktor's `application.conf`), one key per command-line
 * option ([KEYS]), `${?ENV}` substitutions included. Read through kotlinx-serialization's HOCON format after checking every key, its type
 * and its value, so that a bad file fails with `FILE:LINE: key: why`.
 */
internal object ConfigFile {
    private enum class Kind(val text: String) {
        NUMBER("a number"),
        STRING("a string"),
        LIST("a list of strings"),
        OBJECT("an object of NAME = value"),
        SCALAR("a string or a number"),
    }

    /** Every key, with the command-line option it stands for. */
    val KEYS: Map<String, String> =
        linkedMapOf(
            "target" to "TARGET",
            "args" to "ARGS",
            "workers" to "--workers",
            "classpath" to "--classpath",
            "jvm-options" to "--jvm-opt",
            "env" to "--env",
            "chdir" to "--chdir",
            "java" to "--java",
            "class-cache" to "--class-cache",
            "jvm-defaults" to "--jvm-defaults",
            "pid-file" to "--pid-file",
            "log-level" to "--log-level",
            "log-format" to "--log-format",
            "log-file" to "--log-file",
            "start-timeout" to "--start-timeout",
            "ready-timeout" to "--ready-timeout",
            "stop-timeout" to "--stop-timeout",
            "heartbeat-interval" to "--heartbeat-interval",
            "heartbeat-timeout" to "--heartbeat-timeout",
            "max-restarts" to "--max-restarts",
            "restart-window" to "--restart-window",
            "max-backoff" to "--max-backoff",
            "max-frame-size" to "--max-frame-size",
            "watch" to "--watch",
            "socket-mode" to "--socket-mode",
            "ready-when" to "--ready-when",
            "standby" to "--standby",
            "max-requests" to "--max-requests",
            "max-requests-jitter" to "--max-requests-jitter",
            "max-memory" to "--max-memory",
            "max-rss" to "--max-rss",
            "message-buffer" to "--message-buffer",
            "balance" to "--balance",
            "metrics" to "--metrics",
            "metrics-interval" to "--metrics-interval",
            "zookeeper" to "--zookeeper",
            "group" to "--group",
            "zk-auth-file" to "--zk-auth-file",
            "zk-session-timeout" to "--zk-session-timeout",
        )

    private val kinds: Map<String, Kind> =
        KEYS.keys.associateWith { key ->
            when (key) {
                "workers",
                "max-restarts",
                "max-frame-size",
                "standby",
                "max-requests",
                "max-requests-jitter",
                "message-buffer" -> Kind.NUMBER
                "args",
                "classpath",
                "jvm-options",
                "watch" -> Kind.LIST
                "env" -> Kind.OBJECT
                "max-memory",
                "max-rss" -> Kind.SCALAR
                else -> Kind.STRING
            }
        }

    /** The file's contents as kotlinx-serialization sees them (kebab-case keys through the config naming convention). */
    @Serializable
    private class FileSettings(
        val target: String? = null,
        val args: List<String>? = null,
        val workers: Int? = null,
        val classpath: List<String>? = null,
        val jvmOptions: List<String>? = null,
        val env: Map<String, String>? = null,
        val chdir: String? = null,
        val java: String? = null,
        val classCache: String? = null,
        val jvmDefaults: String? = null,
        val pidFile: String? = null,
        val logLevel: String? = null,
        val logFormat: String? = null,
        val logFile: String? = null,
        val startTimeout: String? = null,
        val readyTimeout: String? = null,
        val stopTimeout: String? = null,
        val heartbeatInterval: String? = null,
        val heartbeatTimeout: String? = null,
        val maxRestarts: Int? = null,
        val restartWindow: String? = null,
        val maxBackoff: String? = null,
        val maxFrameSize: Int? = null,
        val watch: List<String>? = null,
        val socketMode: String? = null,
        val readyWhen: String? = null,
        val standby: Int? = null,
        val maxRequests: Long? = null,
        val maxRequestsJitter: Long? = null,
        val maxMemory: String? = null,
        val maxRss: String? = null,
        val messageBuffer: Int? = null,
        val balance: String? = null,
        val metrics: String? = null,
        val metricsInterval: String? = null,
        val zookeeper: String? = null,
        val group: String? = null,
        val zkAuthFile: String? = null,
        val zkSessionTimeout: String? = null,
    )

    @OptIn(ExperimentalSerializationApi::class) private val hocon = Hocon { useConfigNamingConvention = true }

    /** Reads [file]; @throws ConfigFileException naming the file, the line and the key of the first problem. */
    @OptIn(ExperimentalSerializationApi::class)
    fun read(file: Path): RunSettings {
        val config = parse(file)
        val name = file.toString()
        fun line(v: ConfigValue?) = v?.origin()?.lineNumber()?.takeIf { it > 0 }
        fun at(v: ConfigValue?) = line(v)?.let { "$name:$it" } ?: name
        for ((key, value) in config.root()) {
            val kind = kinds[key] ?: throw ConfigFileException("${at(value)}: unknown key '$key'")
            checkType(key, value, kind)?.let { throw ConfigFileException("${at(value)}: $key: $it") }
        }
        val s =
            try {
                hocon.decodeFromConfig(FileSettings.serializer(), config)
            } catch (e: SerializationException) {
                throw ConfigFileException("$name: ${e.message}")
            } catch (e: ConfigException) {
                throw ConfigFileException(e.message ?: e.toString())
            }
        val values = Values(config.root(), ::at)
        return with(values) {
            RunSettings(
                workers = s.workers?.let { check("workers", it) { n -> range(n, 1, RunCommand.MAX_WORKERS) } },
                target = s.target?.let { check("target", it, ::notBlank) },
                args = s.args,
                classpath =
                    s.classpath
                        ?.flatMap { it.split(java.io.File.pathSeparator).filter(String::isNotEmpty) }
                        ?.also { entries -> entries.forEach { e -> check("classpath", e, RunCommand::checkEntry) } },
                jvmOptions = s.jvmOptions,
                classCache = s.classCache?.let { convert("class-cache", it, ClassCache::parse) },
                java =
                    s.java?.let {
                        check("java", it, RunCommand::checkJava)
                        RunCommand.javaPath(it)
                    },
                jvmDefaults = s.jvmDefaults?.let { choice("jvm-defaults", it, mapOf("lean" to true, "off" to false)) },
                pidFile = s.pidFile?.let { path("pid-file", it) },
                logLevel = s.logLevel?.let { choice("log-level", it.lowercase(), RunCommand.LOG_LEVELS.associateWith { l -> l }) },
                logJson = s.logFormat?.let { choice("log-format", it, mapOf("text" to false, "json" to true)) },
                logFile = s.logFile?.let { path("log-file", it) },
                environment =
                    s.env?.also { env -> env.keys.forEach { k -> if (k.isEmpty() || '=' in k) fail("env", "invalid variable name '$k'") } },
                chdir =
                    s.chdir?.let { d -> Path.of(d).also { if (!Files.isDirectory(it)) fail("chdir", "directory \"$d\" does not exist") } },
                startTimeout = s.startTimeout?.let { convert("start-timeout", it, Durations::parse) },
                readyTimeout = s.readyTimeout?.let { convert("ready-timeout", it, Durations::parse) },
                stopTimeout = s.stopTimeout?.let { convert("stop-timeout", it, Durations::parse) },
                heartbeatInterval = s.heartbeatInterval?.let { convert("heartbeat-interval", it, Durations::parse) },
                heartbeatTimeout = s.heartbeatTimeout?.let { convert("heartbeat-timeout", it, Durations::parse) },
                maxRestarts = s.maxRestarts?.let { check("max-restarts", it) { n -> range(n, 0) } },
                restartWindow = s.restartWindow?.let { convert("restart-window", it, Durations::parse) },
                maxBackoff = s.maxBackoff?.let { convert("max-backoff", it, Durations::parse) },
                maxFrameSize =
                    s.maxFrameSize?.let {
                        check("max-frame-size", it) { n -> if (n < 64 * 1024) "must be at least 64 KiB, was $n" else null }
                    },
                watch = s.watch?.map { p -> Path.of(p).also { if (!Files.exists(it)) fail("watch", "'$p' does not exist") } },
                socketMode = s.socketMode?.let { choice("socket-mode", it, RunCommand.SOCKET_MODES) },
                readyPolicy = s.readyWhen?.let { choice("ready-when", it, RunCommand.READY_POLICIES) },
                standby = s.standby?.let { check("standby", it) { n -> range(n, 0, RunCommand.MAX_WORKERS) } },
                maxRequests = s.maxRequests?.let { check("max-requests", it) { n -> range(n, 0) } },
                maxRequestsJitter = s.maxRequestsJitter?.let { check("max-requests-jitter", it) { n -> range(n, 0) } },
                maxMemory = s.maxMemory?.let { convert("max-memory", it, Sizes::parse) },
                maxRss = s.maxRss?.let { convert("max-rss", it, Sizes::parse) },
                messageBuffer = s.messageBuffer?.let { check("message-buffer", it) { n -> range(n, 1) } },
                balance = s.balance?.let { choice("balance", it, RunCommand.BALANCE_STRATEGIES) },
                metrics = s.metrics?.let { convert("metrics", it, RunCommand::parseAddress) },
                metricsInterval = s.metricsInterval?.let { convert("metrics-interval", it, Durations::parse) },
                zookeeper = s.zookeeper?.let { check("zookeeper", it, ::notBlank) },
                group = s.group?.let { check("group", it, ::notBlank) },
                zkAuthFile =
                    s.zkAuthFile?.let { f ->
                        Path.of(f).also { if (!Files.isRegularFile(it)) fail("zk-auth-file", "file \"$f\" does not exist") }
                    },
                zkSessionTimeout = s.zkSessionTimeout?.let { convert("zk-session-timeout", it, Durations::parse) },
            )
        }
    }

    private fun parse(file: Path): Config =
        try {
            val options = ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false)
            // `${VAR}` and `${?VAR}` fall back to the environment (Typesafe Config's default resolve options).
            ConfigFactory.parseFile(file.toFile(), options).resolve()
        } catch (e: ConfigException) {
            throw ConfigFileException(e.message ?: e.toString())
        }

    /** Why [value] is not of [kind] (a string holding a number counts as one, as `${?VAR}` gives strings), or null. */
    private fun checkType(key: String, value: ConfigValue, kind: Kind): String? {
        val type = value.valueType()
        if (type == ConfigValueType.NULL) return null
        val ok =
            when (kind) {
                Kind.NUMBER ->
                    type == ConfigValueType.NUMBER ||
                        (type == ConfigValueType.STRING && (value.unwrapped() as String).trim().toLongOrNull() != null)
                Kind.STRING -> type == ConfigValueType.STRING
                Kind.SCALAR -> type == ConfigValueType.STRING || type == ConfigValueType.NUMBER
                Kind.LIST -> type == ConfigValueType.LIST
                Kind.OBJECT -> type == ConfigValueType.OBJECT
            }
        if (!ok) return "expected ${kind.text}, got ${describe(value)}"
        when (kind) {
            Kind.LIST ->
                (value as com.typesafe.config.ConfigList).forEachIndexed { i, item ->
                    if (item.valueType() != ConfigValueType.STRING && item.valueType() != ConfigValueType.NUMBER) {
                        return "item ${i + 1}: expected a string, got ${describe(item)}"
                    }
                }
            Kind.OBJECT ->
                (value as ConfigObject).forEach { (k, item) ->
                    if (
                        item.valueType() != ConfigValueType.STRING &&
                            item.valueType() != ConfigValueType.NUMBER &&
                            item.valueType() != ConfigValueType.BOOLEAN
                    ) {
                        return "$k: expected a string, got ${describe(item)}"
                    }
                }
            else -> Unit
        }
        return null
    }

    private fun describe(v: ConfigValue): String =
        when (v.valueType()) {
            ConfigValueType.OBJECT -> "an object"
            ConfigValueType.LIST -> "a list"
            ConfigValueType.STRING -> "\"${v.unwrapped()}\""
            else -> v.render()
        }

    private fun notBlank(text: String): String? = if (text.isBlank()) "must not be blank" else null

    private fun <T : Comparable<T>> range(n: T, min: T, max: T? = null): String? =
        when {
            n < min -> "must be at least $min, was $n"
            max != null && n > max -> "must be at most $max, was $n"
            else -> null
        }

    /** Value checks that fail with the key's file and line. */
    private class Values(private val root: ConfigObject, private val at: (ConfigValue?) -> String) {
        fun fail(key: String, why: String): Nothing = throw ConfigFileException("${at(root[key])}: $key: $why")

        fun <T> check(key: String, value: T, why: (T) -> String?): T = value.also { v -> why(v)?.let { fail(key, it) } }

        fun <T> convert(key: String, text: String, parse: (String) -> T): T =
            try {
                parse(text)
            } catch (e: IllegalArgumentException) {
                fail(key, e.message ?: "invalid value '$text'")
            }

        fun <T> choice(key: String, text: String, choices: Map<String, T>): T =
            choices[text] ?: fail(key, "invalid choice: $text (choose from ${choices.keys.joinToString(", ")})")

        fun path(key: String, text: String): Path =
            Path.of(text).also { p ->
                val dir = p.toAbsolutePath().parent
                if (Files.isDirectory(p)) fail(key, "\"$text\" is a directory")
                if (dir != null && !Files.isDirectory(dir)) fail(key, "directory $dir does not exist")
            }
    }
}
