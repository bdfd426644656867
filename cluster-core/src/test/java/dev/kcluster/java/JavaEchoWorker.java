package dev.kcluster.java;

import dev.kcluster.Cluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A worker written in Java. It takes the cluster's shared socket on 127.0.0.1:0 and answers each
 * line of a connection with "worker ID pid PID: LINE"; it echoes String messages, answers a Point
 * with the Point doubled, and says hello and goodbye.
 */
public final class JavaEchoWorker {
    public static void main(String[] args) throws Exception {
        int id = Cluster.workerId();
        long pid = ProcessHandle.current().pid();
        ServerSocketChannel server = Cluster.serverSocketFactory().listen("127.0.0.1:0");
        Thread acceptor = new Thread(() -> {
            while (true) {
                try (SocketChannel client = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
                    OutputStream out = Channels.newOutputStream(client);
                    String line;
                    while ((line = in.readLine()) != null) {
                        out.write(("worker " + id + " pid " + pid + ": " + line + "\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                } catch (Exception e) {
                    return;
                }
            }
        }, "accept");
        acceptor.setDaemon(true);
        acceptor.start();

        JavaCluster.onMessage(m -> {
            if (!m.getType().equals("kotlin.String")) return;
            try {
                JavaCluster.sendString("echo:" + m.asString() + " from " + id);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        JavaCluster.onMessage(Point.CODEC, p -> {
            try {
                JavaCluster.send(new Point(p.x * 2, p.y * 2), Point.CODEC);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Cluster.ready();
        JavaCluster.sendString("hello " + id + " pid " + pid);
        Cluster.awaitTerminationBlocking();
        JavaCluster.sendString("bye " + id);
    }
}
