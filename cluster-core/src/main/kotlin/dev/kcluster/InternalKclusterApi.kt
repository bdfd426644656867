package dev.kcluster

/**
 * Marks declarations that are public only so that kcluster's own modules (the DSL, cluster-netty,
 * the CLI) can use them. They may change without notice; applications should not use them.
 */
@RequiresOptIn(message = "This is kcluster plumbing for its own modules; it may change without notice.", level = RequiresOptIn.Level.ERROR)
@Retention(AnnotationRetention.BINARY)
@Target(AnnotationTarget.CLASS, AnnotationTarget.FUNCTION, AnnotationTarget.PROPERTY)
public annotation class InternalKclusterApi
