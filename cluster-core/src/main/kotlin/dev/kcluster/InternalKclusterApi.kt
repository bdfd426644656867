package dev.kcluster

/**
 * Marks declarations that are public only so that kcluster's own modules (the CLI, the DSL, cluster-netty, the benchmarks) can use them.
 * They may change or go away in any release without notice; applications should not use them. Opt in with
 * `@OptIn(InternalKclusterApi::class)` or the compiler argument `-opt-in=dev.kcluster.InternalKclusterApi`.
 */
@RequiresOptIn(
    message = "This is kcluster plumbing, public only for kcluster's own modules; it may change without notice.",
    level = RequiresOptIn.Level.ERROR,
)
@Retention(AnnotationRetention.RUNTIME) // visible to the API dump, which labels what carries it
@Target(
    AnnotationTarget.CLASS,
    AnnotationTarget.FUNCTION,
    AnnotationTarget.PROPERTY,
    AnnotationTarget.CONSTRUCTOR,
    AnnotationTarget.TYPEALIAS,
)
@MustBeDocumented
public annotation class InternalKclusterApi
