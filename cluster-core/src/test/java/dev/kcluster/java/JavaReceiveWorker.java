package dev.kcluster.java;

import dev.kcluster.Cluster;
import dev.kcluster.Message;
import java.time.Duration;

/** A Java worker that takes messages with the blocking JavaCluster.receive and answers "got:TEXT". */
public final class JavaReceiveWorker {
    public static void main(String[] args) throws Exception {
        JavaCluster.termination().thenRun(() -> System.out.println("termination requested"));
        Cluster.ready();
        int timeouts = 0;
        while (true) {
            Message m = JavaCluster.receive(Duration.ofMillis(200));
            if (m == null) {
                timeouts++;
                if (JavaCluster.termination().isDone()) break;
                continue;
            }
            if (m.getType().equals("kotlin.ByteArray")) JavaCluster.sendBytes(m.bytes());
            else JavaCluster.sendString("got:" + m.asString() + " after " + (timeouts > 0 ? "some" : "no") + " timeouts");
        }
    }
}
