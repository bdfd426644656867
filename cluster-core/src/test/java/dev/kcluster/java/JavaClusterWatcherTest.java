package dev.kcluster.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kcluster.ClusterEvent;
import dev.kcluster.ClusterWorker;
import dev.kcluster.RestartResult;
import dev.kcluster.WatcherConfig;
import dev.kcluster.WorkerMessage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/** The Java API end to end: a Java watcher and Java workers in real JVMs, one cluster for the whole class. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JavaClusterWatcherTest {
    private static final long WAIT = 60;

    private JavaClusterWatcher watcher;
    private final BlockingQueue<WorkerMessage> strings = new LinkedBlockingQueue<>();
    private final BlockingQueue<Point> points = new LinkedBlockingQueue<>();
    private final BlockingQueue<WorkerMessage> published = new LinkedBlockingQueue<>();
    private final BlockingQueue<ClusterEvent> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> exits = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> publisherDone = new CompletableFuture<>();

    @BeforeAll
    void startTwoJavaWorkers() throws Exception {
        WatcherConfig config = WatcherConfig.builder(JavaEchoWorker.class.getName())
                .jvmOptions("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
                .readyTimeout(Duration.ofSeconds(60))
                .stopTimeout(Duration.ofSeconds(20))
                .build();
        watcher = JavaClusterWatcher.create(config);
        watcher.onMessage(m -> {
            if (m.getMessage().getType().equals("kotlin.String")) strings.add(m);
        });
        watcher.onMessage(Point.CODEC, (worker, p) -> points.add(p));
        watcher.onEvent(events::add);
        watcher.onWorkerExit((worker, reason) -> exits.add(worker.getId() + " " + reason.getExpected()));
        watcher.messages().subscribe(new Flow.Subscriber<WorkerMessage>() {
            @Override public void onSubscribe(Flow.Subscription s) { s.request(Long.MAX_VALUE); }
            @Override public void onNext(WorkerMessage item) { published.add(item); }
            @Override public void onError(Throwable t) { publisherDone.completeExceptionally(t); }
            @Override public void onComplete() { publisherDone.complete(null); }
        });
        long t0 = System.nanoTime();
        watcher.startBlocking(2);
        System.out.println("startBlocking(2) -> READY in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @AfterAll
    void cleanUp() {
        if (watcher != null) watcher.close();
    }

    private String nextString(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT);
        while (System.nanoTime() < deadline) {
            WorkerMessage m = strings.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (m != null && m.getMessage().asString().startsWith(prefix)) return m.getMessage().asString();
        }
        throw new AssertionError("no message starting with '" + prefix + "' within " + WAIT + " s");
    }

    @Test
    @Order(1)
    void everyJavaWorkerSaysHelloWithItsPid() throws Exception {
        Set<String> hellos = new HashSet<>();
        hellos.add(nextString("hello "));
        hellos.add(nextString("hello "));
        Set<String> expected = watcher.workers().stream()
                .map(w -> "hello " + w.getId() + " pid " + w.getPid())
                .collect(Collectors.toSet());
        assertEquals(expected, hellos);
    }

    @Test
    @Order(2)
    void stringsTravelBothWays() throws Exception {
        assertEquals(2, watcher.broadcast("ping"));
        Set<String> echoes = new HashSet<>();
        echoes.add(nextString("echo:ping"));
        echoes.add(nextString("echo:ping"));
        Set<String> expected = watcher.workers().stream().map(w -> "echo:ping from " + w.getId()).collect(Collectors.toSet());
        assertEquals(expected, echoes);
    }

    @Test
    @Order(3)
    void codecTypedValuesTravelBothWays() throws Exception {
        ClusterWorker first = watcher.workers().get(0);
        first.send(dev.kcluster.Message.of(new Point(3, 4), Point.CODEC));
        assertEquals(new Point(6, 8), points.poll(WAIT, TimeUnit.SECONDS));
        assertEquals(2, watcher.broadcast(new Point(1, 2), Point.CODEC));
        assertEquals(new Point(2, 4), points.poll(WAIT, TimeUnit.SECONDS));
        assertEquals(new Point(2, 4), points.poll(WAIT, TimeUnit.SECONDS));
    }

    @Test
    @Order(4)
    void theSharedSocketIsServedByTheWorkers() throws Exception {
        List<InetSocketAddress> addresses = watcher.listeningAddresses();
        assertEquals(1, addresses.size(), "both workers share one socket");
        int port = addresses.get(0).getPort();
        Set<Long> pids = watcher.workers().stream().map(ClusterWorker::getPid).collect(Collectors.toSet());
        for (int i = 0; i < 10; i++) {
            String answer = ask(port, "q" + i);
            assertTrue(answer.endsWith(": q" + i), answer);
            long pid = Long.parseLong(answer.split(" ")[3].replace(":", ""));
            assertTrue(pids.contains(pid), "answered by a worker of this cluster: " + answer);
        }
    }

    @Test
    @Order(5)
    void thePublisherSeesTheMessagesToo() throws Exception {
        watcher.broadcast("via-publisher");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT);
        while (true) {
            WorkerMessage m = published.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertNotNull(m, "the publisher delivered the echo");
            if (m.getMessage().getType().equals("kotlin.String") && m.getMessage().asString().startsWith("echo:via-publisher")) break;
        }
    }

    @Test
    @Order(6)
    void restartReplacesEveryWorkerWithNewPids() throws Exception {
        Set<Long> before = watcher.workers().stream().map(ClusterWorker::getPid).collect(Collectors.toSet());
        RestartResult result = watcher.restart().get(WAIT * 2, TimeUnit.SECONDS);
        assertEquals(2, result.getReplaced());
        assertFalse(result.getRolledBack());
        Set<Long> after = watcher.workers().stream().map(ClusterWorker::getPid).collect(Collectors.toSet());
        assertEquals(2, after.size());
        after.retainAll(before);
        assertTrue(after.isEmpty(), "no pid survives a restart");
        int port = watcher.listeningAddresses().get(0).getPort();
        assertTrue(ask(port, "after-restart").endsWith(": after-restart"));
        assertEquals(2, watcher.broadcast("again"));
        nextString("echo:again");
        nextString("echo:again");
    }

    @Test
    @Order(7)
    void stopEndsEveryWorkerAndCompletesTheStreams() throws Exception {
        List<ProcessHandle> processes = watcher.workers().stream()
                .map(w -> ProcessHandle.of(w.getPid()).orElseThrow())
                .collect(Collectors.toList());
        watcher.stop().get(WAIT, TimeUnit.SECONDS);
        assertNull(watcher.awaitTerminationBlocking(), "a requested stop is not a failure");
        for (ProcessHandle p : processes) assertFalse(p.isAlive(), "pid " + p.pid() + " is gone");
        publisherDone.get(WAIT, TimeUnit.SECONDS);
        nextString("bye ");
        nextString("bye ");
        // two restarted-away workers and two stopped ones, all expected exits
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            String e = exits.poll(WAIT, TimeUnit.SECONDS);
            assertNotNull(e, "four worker exits reported");
            assertTrue(e.endsWith(" true"), "exit was expected: " + e);
            seen.add(e);
        }
        assertEquals(4, seen.size());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT);
        ClusterEvent e;
        do {
            e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertNotNull(e, "a Stopped event arrives");
        } while (!(e instanceof ClusterEvent.Stopped));
        assertNull(((ClusterEvent.Stopped) e).getFailure());
    }

    private static String ask(int port, String line) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT));
            OutputStream out = s.getOutputStream();
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }
}
