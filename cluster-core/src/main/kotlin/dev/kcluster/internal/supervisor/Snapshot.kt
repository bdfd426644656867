package dev.kcluster.internal.supervisor

/**
 * A copy of a concurrent collection (a `CopyOnWriteArrayList`, a `ConcurrentHashMap` view) as it is now, made by its `toArray()`, which is
 * consistent by itself. Not `toList()`, `toSet()` or `sortedBy()`: for a size of 0 or 1 they read the size first and then `get(0)` or
 * `iterator().next()`, which throw when an element went away in between (a standby promoted, a worker exiting, during a status update).
 */
internal fun <T> Collection<T>.snapshot(): List<T> = ArrayList(this)
