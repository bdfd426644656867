package dev.kcluster.zookeeper;

import dev.kcluster.GroupConfig;
import dev.kcluster.GroupMember;
import dev.kcluster.HostRestart;
import dev.kcluster.WatcherConfig;
import dev.kcluster.java.JavaClusterWatcher;
import dev.kcluster.java.Registration;
import dev.kcluster.zookeeper.testing.LeaderWorker;
import dev.kcluster.zookeeper.testing.SupportKt;
import dev.kcluster.testing.ZooKeeperTestFiles;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The membership API as Java callers use it: builder, java.time durations, listeners. */
class ZooKeeperMembershipJavaTest {
    @AfterAll
    static void deleteServerFiles() {
        ZooKeeperTestFiles.clean();
    }

    @Test
    void javaCallersJoinWithTheBuilderAndListenToHostsAndConnection() throws Exception {
        File log = File.createTempFile("grants", ".log");
        try (TestingServer zk = new TestingServer(true);
             JavaClusterWatcher watcher = JavaClusterWatcher.create(WatcherConfig.builder(LeaderWorker.class.getName())
                 .jvmOptions(SupportKt.getTEST_JVM())
                 .args(String.valueOf(SupportKt.freePort()), log.getPath())
                 .build())) {
            watcher.startBlocking(1);
            List<List<GroupMember>> hosts = new CopyOnWriteArrayList<>();
            List<GroupConnection> states = new CopyOnWriteArrayList<>();
            try (ZooKeeperMembership group = ZooKeeperMembership.builder(watcher.unwrap())
                     .connect(zk.getConnectString())
                     .group("java")
                     .sessionTimeout(Duration.ofSeconds(4))
                     .connectionTimeout(Duration.ofSeconds(5))
                     .credentials(ZooKeeperCredentials.of("kc", "pw"))
                     .start();
                 Registration h = group.onHosts(hosts::add);
                 Registration c = group.onConnection(states::add)) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                // listeners run on their own thread: wait for both to have been told, not only for the leader latch
                while (System.nanoTime() < end && (hosts.isEmpty() || hosts.get(hosts.size() - 1).isEmpty() || !group.isLeading().getValue()
                        || states.isEmpty() || states.get(states.size() - 1) != GroupConnection.CONNECTED)) {
                    Thread.sleep(20); // polling a condition with a deadline, not synchronising by sleep
                }
                List<GroupMember> last = hosts.get(hosts.size() - 1);
                assertEquals(1, last.size());
                assertEquals(group.getMemberId(), last.get(0).getId());
                assertTrue(group.isLeading().getValue());
                assertEquals(GroupConnection.CONNECTED, states.get(states.size() - 1));
            }
        } finally {
            log.delete();
        }
    }

    @Test
    void javaCallersJoinThroughWatcherConfigAndActOnAllHosts() throws Exception {
        File log = File.createTempFile("grants", ".log");
        try (TestingServer zk = new TestingServer(true);
             JavaClusterWatcher watcher = JavaClusterWatcher.create(WatcherConfig.builder(LeaderWorker.class.getName())
                 .jvmOptions(SupportKt.getTEST_JVM())
                 .args(String.valueOf(SupportKt.freePort()), log.getPath())
                 .group(GroupConfig.builder(zk.getConnectString(), "java-group").sessionTimeout(Duration.ofSeconds(4)).build())
                 .build())) {
            List<List<GroupMember>> hosts = new CopyOnWriteArrayList<>();
            watcher.startBlocking(1);
            try (Registration h = watcher.onHosts(hosts::add)) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < end && (hosts.isEmpty() || hosts.get(hosts.size() - 1).get(0).getLeaderWorker() == null)) {
                    Thread.sleep(20); // polling a condition with a deadline, not synchronising by sleep
                }
                GroupMember me = watcher.hosts().get(0);
                assertEquals(1, watcher.hosts().size());
                assertEquals(ProcessHandle.current().pid(), me.getPid());
                assertEquals(Integer.valueOf(watcher.workers().get(0).getId()), me.getLeaderWorker());
                assertEquals(1, watcher.broadcast("to every host", true));
                List<HostRestart> all = watcher.restartAllHostsBlocking();
                assertEquals(1, all.size());
                assertEquals(me.getId(), all.get(0).getMember());
                assertEquals(HostRestart.Outcome.RESTARTED, all.get(0).getOutcome());
                assertEquals(1, all.get(0).getReplaced());
            }
        } finally {
            log.delete();
        }
    }
}
