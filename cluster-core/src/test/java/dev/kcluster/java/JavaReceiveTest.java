package dev.kcluster.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kcluster.WatcherConfig;
import dev.kcluster.WorkerMessage;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The blocking worker-side receive, with futures on the watcher side. */
class JavaReceiveTest {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aJavaWorkerReceivesWithATimeoutAndAnswersStringsAndBytes() throws Exception {
        WatcherConfig config = WatcherConfig.builder(JavaReceiveWorker.class.getName())
                .jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
                .stopTimeout(Duration.ofSeconds(20))
                .build();
        BlockingQueue<WorkerMessage> replies = new LinkedBlockingQueue<>();
        try (JavaClusterWatcher watcher = JavaClusterWatcher.create(config)) {
            watcher.onMessage(replies::add);
            watcher.start(1).get(60, TimeUnit.SECONDS);
            assertEquals(1, watcher.broadcast("hello"));
            WorkerMessage got = replies.poll(60, TimeUnit.SECONDS);
            assertTrue(got.getMessage().asString().startsWith("got:hello after"), got.getMessage().asString());
            assertEquals(1, watcher.broadcast(new byte[] {7, 8, 9}));
            assertArrayEquals(new byte[] {7, 8, 9}, replies.poll(60, TimeUnit.SECONDS).getMessage().bytes());
            long pid = watcher.workers().get(0).getPid();
            long t0 = System.nanoTime();
            watcher.stopBlocking();
            long stopMillis = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("stopBlocking() took " + stopMillis + " ms");
            assertTrue(stopMillis < 15_000, "the worker left on STOP, before the 20 s stop timeout: " + stopMillis + " ms");
            assertNull(watcher.awaitTermination().get(60, TimeUnit.SECONDS));
            assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), "the worker is gone");
        }
    }
}
