// A job pool: the watcher hands prime-counting jobs to 2 workers, one at a time each, and stops when all are done.
// Jobs: the first argument (default 12). Messages are (id, n) and (id, primes) pairs; any serializable type works.
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue

val jobs = args.firstOrNull()?.toInt() ?: 12

workers(2)

// Watcher state: the jobs not handed out yet, and the results so far.
val queue = ConcurrentLinkedQueue((1..jobs).map { id -> id to id * 200_000 })
val results = ConcurrentHashMap<Int, Int>()

fun next(worker: ClusterWorker) {
    queue.poll()?.let { job -> worker.send(Message.of(job)) }
}

onEvent { e -> if (e is ClusterEvent.WorkerReady) next(e.worker) } // every READY worker (respawns too) takes a job
onMessage<Pair<Int, Int>> { msg ->
    val (id, primes) = msg.data
    results[id] = primes
    log.info("job {}: {} primes below {} (worker {})", id, primes, id * 200_000, msg.worker.id)
    if (results.size == jobs) {
        log.info("all {} jobs done: {} primes in total", jobs, results.values.sum())
        stop()
    } else {
        next(msg.worker)
    }
}

worker {
    ready()
    launch {
        while (true) {
            val (id, n) = receive()?.decode<Pair<Int, Int>>() ?: break // null: the watcher is gone
            send(id to countPrimes(n))
        }
    }
    awaitTermination() // until the watcher stops the cluster; then the loop above is cancelled
}

/** The primes below [n], by the sieve of Eratosthenes. */
fun countPrimes(n: Int): Int {
    val composite = BooleanArray(n)
    var count = 0
    for (i in 2 until n) {
        if (composite[i]) continue
        count++
        var j = i.toLong() * i
        while (j < n) { composite[j.toInt()] = true; j += i }
    }
    return count
}
