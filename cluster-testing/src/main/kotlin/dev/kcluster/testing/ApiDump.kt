package dev.kcluster.testing

import java.lang.reflect.Constructor
import java.lang.reflect.Executable
import java.lang.reflect.Field
import java.lang.reflect.Member
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.exists
import kotlin.io.path.invariantSeparatorsPathString
import kotlin.io.path.readText
import kotlin.io.path.relativeTo
import kotlin.io.path.writeText
import kotlin.metadata.KmClass
import kotlin.metadata.Visibility
import kotlin.metadata.jvm.JvmFieldSignature
import kotlin.metadata.jvm.JvmMethodSignature
import kotlin.metadata.jvm.KotlinClassMetadata
import kotlin.metadata.jvm.fieldSignature
import kotlin.metadata.jvm.getterSignature
import kotlin.metadata.jvm.setterSignature
import kotlin.metadata.jvm.signature
import kotlin.metadata.visibility

/**
 * Renders a module's public API as text, and checks it against the committed dump.
 *
 * The dump lists every public class of the compiled classes outside `*.internal.*` packages that Kotlin code may see (Kotlin `internal` and
 * `private` declarations are left out, read from the classes' Kotlin metadata), with its supertypes, and its public and protected fields,
 * constructors and methods with their generic Java types; synthetic and bridge members are left out. A class or method marked with an
 * opt-in marker kept at run time (`@InternalKclusterApi`) is labelled with it. Classes and members are sorted, so the text depends on
 * nothing but the API.
 */
public object ApiDump {
    /** The system property that makes [verify] rewrite the dump instead of failing. */
    public const val UPDATE_PROPERTY: String = "kcluster.api.update"

    /** The command that rewrites every module's dump. */
    public const val UPDATE_COMMAND: String =
        "mvn -B -q test -Dtest=ApiDumpTest -Dsurefire.failIfNoSpecifiedTests=false -D$UPDATE_PROPERTY=true"

    /**
     * Compares the API of [classes] (a module's `target/classes`) with [dump] and fails with an [AssertionError] showing the difference and
     * the command that updates the dump; with `-Dkcluster.api.update=true` it writes [dump] instead.
     */
    public fun verify(classes: Path, dump: Path, loader: ClassLoader = Thread.currentThread().contextClassLoader) {
        val actual = render(classes, loader)
        if (System.getProperty(UPDATE_PROPERTY).toBoolean()) {
            Files.createDirectories(dump.toAbsolutePath().parent)
            if (!dump.exists() || dump.readText() != actual) dump.writeText(actual)
            return
        }
        val expected = if (dump.exists()) dump.readText() else ""
        if (expected == actual) return
        val expectedLines = expected.lines().toSet()
        val actualLines = actual.lines().toSet()
        val removed = expected.lines().filter { it !in actualLines }.map { "- $it" }
        val added = actual.lines().filter { it !in expectedLines }.map { "+ $it" }
        throw AssertionError(
            buildString {
                append("The public API differs from ${dump.toAbsolutePath().normalize()}")
                if (!dump.exists()) append(" (missing)")
                append(":\n")
                (removed + added).take(200).forEach { append(it).append('\n') }
                append("If the change is intended, review it and update the dump from the project root with\n    ")
                append(UPDATE_COMMAND)
                append("\nthen commit the .api file with the change.")
            }
        )
    }

    /** The dump of the classes under [classes], loaded (not initialised) through [loader]. */
    public fun render(classes: Path, loader: ClassLoader): String {
        val names =
            Files.walk(classes).use { paths ->
                paths
                    .filter { it.toString().endsWith(".class") && !it.fileName.toString().startsWith("module-info") }
                    .map { it.relativeTo(classes).invariantSeparatorsPathString.removeSuffix(".class").replace('/', '.') }
                    .toList()
            }
        val out = StringBuilder()
        names
            .filter { ".internal." !in ".$it." }
            .sorted()
            .forEach { name ->
                val cls = Class.forName(name, false, loader)
                val block = renderClass(cls) ?: return@forEach
                out.append(block).append('\n')
            }
        return out.toString()
    }

    private fun renderClass(cls: Class<*>): String? {
        if (cls.isSynthetic || cls.isAnonymousClass || cls.isLocalClass) return null
        if (!isVisible(cls.modifiers)) return null
        var outer = cls.declaringClass
        while (outer != null) {
            if (!isVisible(outer.modifiers) || kotlinHides(outer)) return null
            outer = outer.declaringClass
        }
        val hidden = HashSet<String>()
        when (val meta = metadata(cls)) {
            null -> {}
            is KotlinClassMetadata.Class -> {
                if (!meta.kmClass.visibility.shown) return null
                hideMembers(meta.kmClass, hidden)
            }
            is KotlinClassMetadata.FileFacade -> {
                meta.kmPackage.functions.filter { !it.visibility.shown }.forEach { it.signature?.let { s -> hidden += s.key() } }
                meta.kmPackage.properties
                    .filter { !it.visibility.shown }
                    .forEach { p -> hidden += listOfNotNull(p.getterSignature?.key(), p.setterSignature?.key(), p.fieldSignature?.key()) }
            }
            is KotlinClassMetadata.MultiFileClassFacade,
            is KotlinClassMetadata.MultiFileClassPart -> {}
            else -> return null // lambdas, when-mappings and other synthetic classes
        }
        val members = ArrayList<String>()
        // A hidden companion object's field (`internal companion object`) is public in the bytecode.
        cls.declaredFields
            .filter { shown(it, hidden) && !kotlinHides(it.type) }
            .forEach { members += "${modifiers(it.modifiers)}${it.genericType.typeName} ${it.name}" }
        cls.declaredConstructors
            .filter { shown(it, hidden) }
            .forEach { members += "${optIn(it)}${modifiers(it.modifiers)}<init>(${params(it)})" }
        cls.declaredMethods
            .filter { !it.isBridge && shown(it, hidden) }
            .forEach {
                members +=
                    "${optIn(it)}${modifiers(it.modifiers)}${typeParams(it)}${it.genericReturnType.typeName} ${it.name}(${params(it)})"
            }
        if (members.isEmpty() && metadata(cls) is KotlinClassMetadata.FileFacade) return null
        val supertypes =
            listOfNotNull(cls.genericSuperclass?.takeIf { it != Any::class.java && !cls.isEnum })
                .plus(cls.genericInterfaces.filter { !(cls.isAnnotation && it == Annotation::class.java) })
                .map { it.typeName }
        val kind =
            when {
                cls.isAnnotation -> "@interface"
                cls.isInterface -> "interface"
                cls.isEnum -> "enum"
                else -> "class"
            }
        val classMods = cls.modifiers and (if (cls.isInterface) Modifier.ABSTRACT.inv() else -1)
        return buildString {
            append(optIn(cls)).append(modifiers(classMods)).append(kind).append(' ').append(cls.name)
            if (supertypes.isNotEmpty()) append(" : ").append(supertypes.joinToString(", "))
            append(" {\n")
            members.sorted().forEach { append('\t').append(it).append('\n') }
            append("}\n")
        }
    }

    private fun hideMembers(km: KmClass, hidden: MutableSet<String>) {
        km.functions.filter { !it.visibility.shown }.forEach { f -> f.signature?.let { hidden += it.key() } }
        km.constructors.filter { !it.visibility.shown }.forEach { c -> c.signature?.let { hidden += it.key() } }
        km.properties.forEach { p ->
            if (!p.visibility.shown) {
                hidden += listOfNotNull(p.getterSignature?.key(), p.setterSignature?.key(), p.fieldSignature?.key())
            } else {
                if (!p.getter.visibility.shown) p.getterSignature?.let { hidden += it.key() }
                if (p.setter?.visibility?.shown == false) p.setterSignature?.let { hidden += it.key() }
            }
        }
    }

    /** `@Name ` for each opt-in marker (`Internal…Api`) on [element] visible at run time. */
    private fun optIn(element: java.lang.reflect.AnnotatedElement): String =
        element.annotations
            .map { it.annotationClass.java.simpleName }
            .filter { it.startsWith("Internal") && it.endsWith("Api") }
            .sorted()
            .joinToString("") { "@$it " }

    private fun kotlinHides(cls: Class<*>): Boolean = (metadata(cls) as? KotlinClassMetadata.Class)?.kmClass?.visibility?.shown == false

    private fun metadata(cls: Class<*>): KotlinClassMetadata? =
        cls.getAnnotation(Metadata::class.java)?.let { KotlinClassMetadata.readLenient(it) }

    private val Visibility.shown: Boolean
        get() = this == Visibility.PUBLIC || this == Visibility.PROTECTED

    private fun JvmMethodSignature.key(): String = name + descriptor

    private fun JvmFieldSignature.key(): String = "$name:$descriptor"

    private fun isVisible(mods: Int): Boolean = Modifier.isPublic(mods) || Modifier.isProtected(mods)

    private fun shown(member: Member, hidden: Set<String>): Boolean {
        if (member.isSynthetic || !isVisible(member.modifiers)) return false
        return descriptorKey(member) !in hidden
    }

    private fun descriptorKey(member: Member): String =
        when (member) {
            is Field -> "${member.name}:${descriptor(member.type)}"
            is Constructor<*> -> "<init>(${member.parameterTypes.joinToString("") { descriptor(it) }})V"
            is Method -> "${member.name}(${member.parameterTypes.joinToString("") { descriptor(it) }})${descriptor(member.returnType)}"
            else -> member.name
        }

    private fun descriptor(type: Class<*>): String =
        when {
            type.isArray -> "[" + descriptor(type.componentType)
            type == Void.TYPE -> "V"
            type == java.lang.Boolean.TYPE -> "Z"
            type == java.lang.Byte.TYPE -> "B"
            type == java.lang.Character.TYPE -> "C"
            type == java.lang.Short.TYPE -> "S"
            type == Integer.TYPE -> "I"
            type == java.lang.Long.TYPE -> "J"
            type == java.lang.Float.TYPE -> "F"
            type == java.lang.Double.TYPE -> "D"
            else -> "L" + type.name.replace('.', '/') + ";"
        }

    private fun modifiers(mods: Int): String {
        val shown = mods and (Modifier.PUBLIC or Modifier.PROTECTED or Modifier.STATIC or Modifier.FINAL or Modifier.ABSTRACT)
        return Modifier.toString(shown).let { if (it.isEmpty()) it else "$it " }
    }

    private fun typeParams(e: Executable): String =
        e.typeParameters
            .takeIf { it.isNotEmpty() }
            ?.joinToString(", ", "<", "> ") { tp ->
                val bounds = tp.bounds.filter { it != Any::class.java }
                if (bounds.isEmpty()) tp.name else "${tp.name} extends ${bounds.joinToString(" & ") { it.typeName }}"
            } ?: ""

    private fun params(e: Executable): String = e.genericParameterTypes.joinToString(", ") { it.typeName }
}
