package dev.kcluster.samples.java;

import dev.kcluster.Cluster;
import dev.kcluster.MessageCodec;
import dev.kcluster.WatcherConfig;
import dev.kcluster.java.JavaCluster;
import dev.kcluster.java.JavaClusterWatcher;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP line-echo service on the cluster's shared socket, in plain Java. One main is both the watcher
 * and, in the JVMs it launches, each worker; every worker tells the watcher about each 100 requests.
 * Usage: {@code JavaTcpService [host:port] [workers]}, or {@code --standalone} for one in-process worker.
 */
public final class JavaTcpService {
    /** What a worker reports per batch of 100 requests, sent with its own codec. */
    record Batch(int worker, long total) {
        static final MessageCodec<Batch> CODEC = MessageCodec.of("samples.Batch",
                b -> (b.worker + "," + b.total).getBytes(StandardCharsets.UTF_8),
                bytes -> {
                    String[] f = new String(bytes, StandardCharsets.UTF_8).split(",");
                    return new Batch(Integer.parseInt(f[0]), Long.parseLong(f[1]));
                });
    }

    public static void main(String[] args) throws Exception {
        boolean standalone = args.length > 0 && args[0].equals("--standalone");
        String[] rest = standalone ? java.util.Arrays.copyOfRange(args, 1, args.length) : args;
        String address = rest.length > 0 ? rest[0] : "127.0.0.1:9090";
        if (Cluster.isWorker() || standalone) {
            worker(address);
        } else {
            watcher(address, rest.length > 1 ? Integer.parseInt(rest[1]) : 2);
        }
    }

    static void watcher(String address, int workers) throws Exception {
        WatcherConfig config = WatcherConfig.builder(JavaTcpService.class.getName()).args(address).build();
        JavaClusterWatcher watcher = JavaClusterWatcher.create(config);
        watcher.onMessage(Batch.CODEC, (worker, batch) ->
                System.out.println("worker " + batch.worker() + " (pid " + worker.getPid() + ") has served " + batch.total() + " requests"));
        watcher.onWorkerExit((worker, reason) -> System.out.println("worker " + worker.getId() + " exited: " + reason));
        Runtime.getRuntime().addShutdownHook(new Thread(watcher::close));   // SIGTERM/SIGINT: graceful stop
        watcher.startBlocking(workers);
        System.out.println(workers + " workers listening on " + watcher.listeningAddresses());
        Throwable failure = watcher.awaitTerminationBlocking();
        if (failure != null) throw new IllegalStateException("cluster failed", failure);
    }

    static void worker(String address) throws Exception {
        ServerSocketChannel server = Cluster.serverSocketFactory().listen(address);  // shared; makes this worker READY
        AtomicLong served = new AtomicLong();
        ExecutorService clients = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "client");
            t.setDaemon(true);
            return t;
        });
        Thread acceptor = new Thread(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel client = server.accept();
                    clients.execute(() -> serve(client, served));
                } catch (Exception e) {
                    return;
                }
            }
        }, "accept");
        acceptor.setDaemon(true);
        acceptor.start();
        Cluster.awaitTerminationBlocking();
        server.close();
    }

    static void serve(SocketChannel client, AtomicLong served) {
        try (client) {
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
            OutputStream out = Channels.newOutputStream(client);
            for (String line; (line = in.readLine()) != null; ) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                long n = served.incrementAndGet();
                if (n % 100 == 0 && Cluster.isWorker()) JavaCluster.send(new Batch(Cluster.workerId(), n), Batch.CODEC);
            }
        } catch (Exception e) {
            // client gone
        }
    }
}
