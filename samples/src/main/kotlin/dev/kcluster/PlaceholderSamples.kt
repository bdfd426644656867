package dev.kcluster

/** Placeholder until the module's issue lands. */
internal object PlaceholderSamples
