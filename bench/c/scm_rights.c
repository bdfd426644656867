/*
 * Baseline for kcluster's client-socket transfer bench: the same work as
 * ClientSocketSendPipe -> ClientSocketReceivePipe, in plain C.
 *
 * A parent process and a forked child share an AF_UNIX SOCK_STREAM socketpair.
 * Per batch the parent pre-creates BATCH loopback TCP connections (connect +
 * accept, not timed), then, timed, sends every accepted fd to the child with
 * sendmsg(SCM_RIGHTS) and a 24-byte payload (about the size of kcluster's
 * CLIENT_SOCKET frame) and closes its own copy. The child recvmsg's each one and
 * closes it; for the last fd of the batch it first writes one byte into the
 * connection, and the parent's timer stops when that byte arrives at the client end.
 *
 * usage: scm_rights [batches] [batch_size] [warmup_batches]
 * prints one line: "transfers=<n> seconds=<s> per_sec=<rate> median_batch_per_sec=<rate>"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 24

static void die(const char *what) {
    perror(what);
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void send_fd(int sock, int fd, int last) {
    char payload[MSG_SIZE];
    memset(payload, 0, sizeof payload);
    payload[0] = last ? 'L' : 'n';
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = { payload, sizeof payload };
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n = sendmsg(sock, &msg, 0);
    if (n != MSG_SIZE) die("sendmsg");
}

/* Child: receive fds until EOF; close each, acknowledging the batch's last one. */
static void child(int sock) {
    char payload[MSG_SIZE];
    for (;;) {
        size_t got = 0;
        int fd = -1;
        while (got < MSG_SIZE) {
            union { char buf[CMSG_SPACE(sizeof(int) * 4)]; struct cmsghdr align; } u;
            struct iovec iov = { payload + got, MSG_SIZE - got };
            struct msghdr msg = { 0 };
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = u.buf;
            msg.msg_controllen = sizeof u.buf;
            ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("recvmsg");
            }
            if (n == 0) _exit(got == 0 ? 0 : 2);
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                    int nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                    for (int i = 0; i < nfds; i++) {
                        int f;
                        memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (fd < 0) fd = f; else close(f);
                    }
                }
            }
            got += n;
        }
        if (fd < 0) {
            fprintf(stderr, "scm_rights child: message without fd\n");
            _exit(3);
        }
        if (payload[0] == 'L' && write(fd, "k", 1) != 1) die("child write");
        close(fd);
    }
}

int main(int argc, char **argv) {
    int batches = argc > 1 ? atoi(argv[1]) : 20;
    int batch = argc > 2 ? atoi(argv[2]) : 1000;
    int warmup = argc > 3 ? atoi(argv[3]) : 3;
    if (batches < 1 || batch < 1 || warmup < 0) {
        fprintf(stderr, "usage: scm_rights [batches>=1] [batch_size>=1] [warmup_batches>=0]\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((rlim_t)(2 * batch + 16) > rl.rlim_cur) {
            fprintf(stderr, "scm_rights: batch of %d needs %d fds, limit is %ld: use a smaller batch\n",
                    batch, 2 * batch + 16, (long)rl.rlim_cur);
            return 2;
        }
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(sv[0]);
        child(sv[1]);
        _exit(0);
    }
    close(sv[1]);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    struct sockaddr_in addr = { 0 };
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 128) < 0) die("listen");
    socklen_t alen = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) die("getsockname");

    int *clients = malloc(sizeof(int) * batch);
    int *accepted = malloc(sizeof(int) * batch);
    double total = 0;
    long transfers = 0;
    double *rates = malloc(sizeof(double) * batches);
    struct linger lin = { 1, 0 };
    for (int b = 0; b < warmup + batches; b++) {
        for (int i = 0; i < batch; i++) {
            clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (clients[i] < 0) die("socket");
            if (connect(clients[i], (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
            accepted[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (accepted[i] < 0) die("accept");
        }
        double t0 = now();
        for (int i = 0; i < batch; i++) {
            send_fd(sv[0], accepted[i], i == batch - 1);
            close(accepted[i]);
        }
        char ack;
        if (read(clients[batch - 1], &ack, 1) != 1) die("read ack");
        double t1 = now();
        if (b >= warmup) {
            rates[b - warmup] = batch / (t1 - t0);
            total += t1 - t0;
            transfers += batch;
        }
        for (int i = 0; i < batch; i++) {
            /* RST instead of FIN: no TIME_WAIT build-up across many thousands of connections. */
            setsockopt(clients[i], SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
            close(clients[i]);
        }
    }
    close(sv[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "scm_rights: child failed (status %d)\n", status);
        return 1;
    }
    qsort(rates, batches, sizeof(double), cmp_double);
    double median = batches % 2 ? rates[batches / 2] : (rates[batches / 2 - 1] + rates[batches / 2]) / 2;
    printf("transfers=%ld seconds=%.6f per_sec=%.0f median_batch_per_sec=%.0f\n", transfers, total, transfers / total, median);
    return 0;
}
