package dev.kcluster.dsl

/** Marks the receivers of the `cluster { }` DSL, so a block only sees its own receiver's verbs. */
@DslMarker @Target(AnnotationTarget.CLASS, AnnotationTarget.TYPE) public annotation class ClusterDsl
