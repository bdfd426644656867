package dev.kcluster.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kcluster.ClientSocketReceivePipe;
import dev.kcluster.Cluster;
import dev.kcluster.ClusterEvent;
import dev.kcluster.ClusterException;
import dev.kcluster.ClusterWatcher;
import dev.kcluster.ClusterWorker;
import dev.kcluster.ExitReason;
import dev.kcluster.GroupConfig;
import dev.kcluster.GroupMember;
import dev.kcluster.HostRestart;
import dev.kcluster.ListenOptions;
import dev.kcluster.LocalServerSocketFactory;
import dev.kcluster.Message;
import dev.kcluster.MemberWorker;
import dev.kcluster.MessageCodec;
import dev.kcluster.ReadyPolicy;
import dev.kcluster.RestartResult;
import dev.kcluster.ServerSocketFactory;
import dev.kcluster.SocketMode;
import dev.kcluster.WatcherConfig;
import dev.kcluster.WatcherSignals;
import dev.kcluster.WorkerChannel;
import dev.kcluster.WorkerMessage;
import dev.kcluster.WorkerState;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Compiles against every Java-facing declaration of dev.kcluster.java and the core types Java programs
 * touch, with the exact Java types spelled out: a `suspend`, `kotlin.time.Duration` or `Function1`
 * slipping into one of these signatures breaks this file's compilation. What runs without a cluster runs.
 */
class JavaApiSurfaceTest {
    @Test
    void watcherConfigBuilderTakesJavaTypesOnly() {
        WatcherConfig config = WatcherConfig.builder("com.example.Main")
                .args("a", "b").args(List.of("c"))
                .classpath("extra.jar").inheritClasspath(true)
                .javaCommand(Path.of(System.getProperty("java.home"), "bin", "java").toString())
                .jvmOptions("-Xmx64m").jvmOptions(List.of("-Xss512k"))
                .environment("K", "V")
                .workingDirectory(null)
                .startTimeout(Duration.ofSeconds(5)).readyTimeout(Duration.ofSeconds(6)).stopTimeout(Duration.ofSeconds(7))
                .heartbeatInterval(Duration.ofSeconds(1)).heartbeatTimeout(Duration.ofSeconds(9))
                .maxRestarts(3, Duration.ofMinutes(1)).maxBackoff(Duration.ofSeconds(2))
                .readyPolicy(ReadyPolicy.EXPLICIT).socketMode(SocketMode.REUSE_PORT).maxFrameSize(1 << 20)
                .orphanExitGrace(Duration.ofMillis(20))
                .build();
        String target = config.getTarget();
        List<String> args = config.getArgs();
        Map<String, String> env = config.getEnvironment();
        Duration ready = config.getReadyTimeout();
        assertEquals("com.example.Main", target);
        assertEquals(List.of("a", "b", "c"), args);
        assertEquals(Map.of("K", "V"), env);
        assertEquals(Duration.ofSeconds(6), ready);
        assertEquals(3, config.getMaxRestarts());
        assertEquals(ReadyPolicy.EXPLICIT, config.getReadyPolicy());
        assertEquals(SocketMode.REUSE_PORT, config.getSocketMode());
        assertEquals(Duration.ofMillis(20), config.getOrphanExitGrace());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> WatcherConfig.builder("x").stopTimeout(Duration.ZERO).build());
        assertTrue(bad.getMessage().contains("stopTimeout"));
    }

    @Test
    void groupConfigFromJava() {
        GroupConfig group = GroupConfig.builder("zk1:2181,zk2:2181", "shop")
                .sessionTimeout(Duration.ofSeconds(10)).connectionTimeout(Duration.ofSeconds(3))
                .credentialsFile(Path.of("/etc/shop/zk.auth")).credentialsFromEnvironment().credentialsFromEnvironment("ZK")
                .leadership(false).hostName("host1")
                .build();
        WatcherConfig config = WatcherConfig.builder("com.example.Main").group(group).build();
        assertEquals("shop", config.getGroup().getName());
        assertEquals(Duration.ofSeconds(10), config.getGroup().getSessionTimeout());
        assertEquals("ZK", group.getCredentialsVariable());
        assertEquals(65536, GroupConfig.MAX_BROADCAST_BYTES);
        assertNull(WatcherConfig.builder("x").build().getGroup());
        assertThrows(IllegalArgumentException.class, () -> GroupConfig.builder("", "shop").build());
    }

    @Test
    void messagesAndCodecsFromJava() {
        Message text = Message.ofString("hi");
        assertEquals("kotlin.String", text.getType());
        assertEquals("hi", text.asString());
        Message raw = Message.ofBytes(new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, raw.bytes());
        int size = raw.getSize();
        assertEquals(3, size);
        MessageCodec<Point> codec = Point.CODEC;
        String type = codec.getType();
        byte[] encoded = codec.encode(new Point(1, 2));
        assertEquals(new Point(1, 2), codec.decode(encoded));
        Message typed = Message.of(new Point(5, 6), codec);
        assertEquals(type, typed.getType());
        assertEquals(new Point(5, 6), typed.decode(codec));
        assertThrows(IllegalArgumentException.class, () -> text.decode(codec));
        MessageCodec<String> custom = MessageCodec.of("t", s -> s.getBytes(StandardCharsets.UTF_8), b -> new String(b, StandardCharsets.UTF_8));
        assertEquals("x", custom.decode(custom.encode("x")));
    }

    @Test
    void listenOptionsAndLocalSocketsFromJava() throws IOException {
        ListenOptions defaults = ListenOptions.DEFAULT;
        ListenOptions some = new ListenOptions(128);
        ListenOptions all = new ListenOptions(64, true, false, false).withReusePort(true);
        assertEquals(1024, defaults.getBacklog());
        assertEquals(128, some.getBacklog());
        assertTrue(all.getReusePort() && all.getReuseAddress() && !all.getTcpNoDelay());
        ServerSocketFactory local = new LocalServerSocketFactory();
        try (ServerSocketChannel a = local.listen("127.0.0.1:0"); ServerSocketChannel b = local.listen("127.0.0.1:0", some)) {
            assertTrue(((InetSocketAddress) a.getLocalAddress()).getPort() > 0);
            assertTrue(b.isOpen());
        }
    }

    @Test
    void clusterFacadeStandalone() throws IOException {
        boolean worker = Cluster.isWorker();
        int id = Cluster.workerId();
        assertFalse(worker);
        assertEquals(0, id);
        Cluster.ready();
        ServerSocketFactory factory = Cluster.serverSocketFactory();
        try (ServerSocketChannel s = factory.listen("127.0.0.1:0")) {
            assertTrue(s.isOpen());
        }
        assertThrows(IllegalStateException.class, () -> { WorkerChannel c = Cluster.channel(); });
        assertThrows(IllegalStateException.class, () -> { ClientSocketReceivePipe p = Cluster.clientSockets(); });
        assertThrows(IllegalStateException.class, () -> JavaCluster.sendString("x"));
        assertThrows(IllegalStateException.class, () -> JavaCluster.onMessage(m -> { }));
        // Blocking until a signal, so referenced only.
        ThrowingRunnable await = Cluster::awaitTerminationBlocking;
        Runnable stop = Cluster::stop;
        assertTrue(await != null && stop != null);
    }

    @Test
    void exitReasonsEventsAndResults() {
        ExitReason reason = new ExitReason(137, 9, "killed", false);
        int code = reason.getExitCode();
        Integer signal = reason.getSignal();
        String detail = reason.getDetail();
        boolean expected = reason.getExpected();
        assertEquals(137, code);
        assertEquals(9, signal);
        assertEquals("killed", detail);
        assertFalse(expected);
        assertTrue(reason.toString().contains("SIGKILL"));
        RestartResult result = new RestartResult(2, false, null);
        assertEquals(2, result.getReplaced());
        assertFalse(result.getRolledBack());
        assertNull(result.getReason());
        ClusterException failure = new ClusterException("boom", reason, null);
        assertEquals(reason, failure.getReason());
        ClusterEvent stopped = new ClusterEvent.Stopped(null);
        assertEquals("stopped", describe(stopped));
        assertEquals(WorkerState.READY, WorkerState.valueOf("READY"));
    }

    /** Every event type's getters, as a Java listener would read them. */
    static String describe(ClusterEvent e) {
        if (e instanceof ClusterEvent.WorkerStarted) return "started " + worker(((ClusterEvent.WorkerStarted) e).getWorker());
        if (e instanceof ClusterEvent.WorkerReady) return "ready " + worker(((ClusterEvent.WorkerReady) e).getWorker());
        if (e instanceof ClusterEvent.WorkerExited) {
            ClusterEvent.WorkerExited x = (ClusterEvent.WorkerExited) e;
            return "exited " + worker(x.getWorker()) + " " + x.getReason();
        }
        if (e instanceof ClusterEvent.WorkerRespawned) {
            ClusterEvent.WorkerRespawned r = (ClusterEvent.WorkerRespawned) e;
            long delay = r.getDelayMillis();
            return "respawned " + worker(r.getPrevious()) + " -> " + worker(r.getWorker()) + " after " + delay;
        }
        if (e instanceof ClusterEvent.WorkerUnresponsive) {
            String dump = ((ClusterEvent.WorkerUnresponsive) e).getThreadDump();
            return "unresponsive " + worker(((ClusterEvent.WorkerUnresponsive) e).getWorker()) + (dump == null ? "" : " dump");
        }
        if (e instanceof ClusterEvent.RestartFinished) return "restart " + ((ClusterEvent.RestartFinished) e).getResult();
        if (e instanceof ClusterEvent.Stopped) {
            Throwable f = ((ClusterEvent.Stopped) e).getFailure();
            return f == null ? "stopped" : "failed " + f.getMessage();
        }
        return e.toString();
    }

    static String worker(ClusterWorker w) {
        int id = w.getId();
        long pid = w.getPid();
        WorkerState state = w.getState();
        Instant started = w.getStartedAt();
        int restarts = w.getRestarts();
        return id + "/" + pid + "/" + state + "/" + started + "/" + restarts;
    }

    /** Everything a Java program calls on a watcher and its workers, with the Java types spelled out. */
    static void wholeWatcherApi(JavaClusterWatcher w, ClusterWorker worker, SocketChannel client) throws Exception {
        ClusterWatcher kotlin = w.unwrap();
        WatcherConfig config = w.config();
        List<ClusterWorker> workers = w.workers();
        List<InetSocketAddress> addresses = w.listeningAddresses();
        CompletableFuture<Void> started = w.start(2);
        w.startBlocking(2);
        CompletableFuture<RestartResult> restarted = w.restart();
        RestartResult result = w.restartBlocking();
        CompletableFuture<Void> scaled = w.scale(3);
        w.scaleBlocking(3);
        CompletableFuture<Void> stopped = w.stop();
        w.stopBlocking();
        CompletableFuture<Throwable> terminated = w.awaitTermination();
        Throwable failure = w.awaitTerminationBlocking();
        int reached = w.broadcast("text") + w.broadcast(new byte[] {1}) + w.broadcast(Message.ofString("m")) + w.broadcast(new Point(1, 1), Point.CODEC);
        Registration r1 = w.onMessage((WorkerMessage m) -> {
            ClusterWorker from = m.getWorker();
            Message message = m.getMessage();
        });
        Registration r2 = w.onMessage(Point.CODEC, (ClusterWorker from, Point p) -> { });
        Registration r3 = w.onEvent((ClusterEvent e) -> { });
        Registration r4 = w.onEvent(ClusterEvent.WorkerExited.class, (ClusterEvent.WorkerExited e) -> { });
        Registration r5 = w.onWorkerExit((ClusterWorker from, ExitReason why) -> { });
        Flow.Publisher<WorkerMessage> publisher = w.messages();
        int hostsReached = w.broadcast("to every host", true) + w.broadcast(Message.ofString("m"), true);
        List<GroupMember> hosts = w.hosts();
        Registration r6 = w.onHosts((List<GroupMember> members) -> {
            GroupMember m = members.get(0);
            String id = m.getId();
            long pid = m.getPid();
            List<MemberWorker> ws = m.getWorkers();
        });
        CompletableFuture<List<HostRestart>> all = w.restartAllHosts();
        for (HostRestart h : w.restartAllHostsBlocking()) {
            String member = h.getMember();
            HostRestart.Outcome outcome = h.getOutcome();
            int replaced = h.getReplaced();
            String reason = h.getReason();
        }
        r1.close();
        try (Registration r = r2) { }
        w.close();
        worker.send(Message.ofString("to one worker"));
        worker.sendSocket(client, null);
        worker.sendSocket(client, Message.ofString("with data"));
    }

    /** Everything a Java worker calls. */
    static void wholeWorkerApi() throws Exception {
        JavaCluster.send(Message.ofString("m"));
        JavaCluster.sendString("s");
        JavaCluster.sendBytes(new byte[] {1});
        JavaCluster.send(new Point(1, 2), Point.CODEC);
        Consumer<Message> listener = m -> { };
        Registration r1 = JavaCluster.onMessage(listener);
        Registration r2 = JavaCluster.onMessage(Point.CODEC, (Point p) -> { });
        Message next = JavaCluster.receive(Duration.ofSeconds(1));
        CompletableFuture<Void> termination = JavaCluster.termination();
        WorkerChannel channel = Cluster.channel();
        channel.send(Message.ofString("direct"));
        ClientSocketReceivePipe sockets = Cluster.clientSockets();
        r1.close();
        r2.close();
    }

    @Test
    void aWatcherThatNeverStartedClosesCleanly() {
        JavaClusterWatcher w = JavaClusterWatcher.create(WatcherConfig.builder("com.example.Main").build());
        Registration r = w.onEvent(e -> { });
        assertTrue(w.workers().isEmpty());
        assertEquals(0, w.broadcast("nobody"));
        w.close();
        r.close();
        assertNull(w.awaitTermination().join());
        JavaClusterWatcher wrapped = JavaClusterWatcher.wrap(ClusterWatcher.create(WatcherConfig.builder("x").build()));
        wrapped.close();
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void watcherSignalsBuildFromJava() {
        JavaClusterWatcher watcher = JavaClusterWatcher.create(WatcherConfig.builder("com.example.Main").build());
        WatcherSignals.Builder builder = WatcherSignals.builder(watcher.unwrap())
                .onStop(() -> { })
                .onReload(() -> { })
                .onReopenLog(() -> { })
                .onScale((int delta) -> { })
                .beforeForcedExit(() -> { });
        try (WatcherSignals signals = builder.install()) {
            assertFalse(signals.isStopRequested());
        }
        watcher.close();
    }
}
