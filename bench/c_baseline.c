/* c_baseline: the lower bound for the issue-6 benchmark, in plain C.
 *
 *   c_baseline [--server PATH] cycle N
 *   c_baseline [--server PATH] flood BYTES [REPS]
 *   c_baseline [--server PATH] devnull BYTES [REPS]
 *   c_baseline [--server PATH] stop-ignore GRACE_MS N
 *   c_baseline [--server PATH] stop N
 *   c_baseline [--server PATH] wake N
 *
 * PATH defaults to "refserver" next to this executable. Output is one
 * "key value" pair per line (times in milliseconds); see bench/README.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { READY_TIMEOUT_MS = 10000, IO_BUF = 64 * 1024 };

static char server_path[PATH_MAX];

static void die(const char *what) {
  fprintf(stderr, "c_baseline: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *what) {
  fprintf(stderr, "c_baseline: %s\n", what);
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of an already sorted array. */
static double percentile(const double *sorted, int n, double p) {
  int rank = (int)(p / 100.0 * n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static void report(const char *name, double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  printf("%s_min_ms %.3f\n", name, v[0]);
  printf("%s_median_ms %.3f\n", name, percentile(v, n, 50));
  printf("%s_p95_ms %.3f\n", name, percentile(v, n, 95));
  printf("%s_p99_ms %.3f\n", name, percentile(v, n, 99));
}

/* Starts the server with stdout to a new pipe (*out_fd gets the read end),
 * or to /dev/null when out_fd is NULL. */
static pid_t spawn_server(char *const extra_args[], int *out_fd) {
  char *argv[8] = {server_path};
  int argc = 1;
  for (int i = 0; extra_args[i] && argc < 7; ++i) argv[argc++] = extra_args[i];
  argv[argc] = NULL;

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int p[2] = {-1, -1};
  if (out_fd) {
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe2");
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO); /* dup2 clears CLOEXEC */
  } else {
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid;
  int err = posix_spawn(&pid, server_path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) {
    errno = err;
    die(server_path);
  }
  if (out_fd) {
    close(p[1]);
    *out_fd = p[0];
  }
  return pid;
}

/* Reads stdout into buf until the first line is complete (NUL-terminated). */
static void read_first_line(int fd, char *buf, size_t cap) {
  size_t len = 0;
  double deadline = now_ms() + READY_TIMEOUT_MS;
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int left = (int)(deadline - now_ms());
    int r = poll(&pfd, 1, left > 0 ? left : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("poll");
    if (r == 0) fail("timed out waiting for the listening line");
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read");
    if (n == 0) fail("server closed stdout before the listening line");
    len += (size_t)n;
    buf[len] = '\0';
    if (strchr(buf, '\n')) return;
    if (len == cap - 1) fail("first line too long");
  }
}

/* Reads stdout until the "listening on 127.0.0.1 port P" line; returns P. */
static int wait_ready(int fd) {
  char buf[256];
  read_first_line(fd, buf, sizeof buf);
  unsigned port;
  if (sscanf(buf, "listening on 127.0.0.1 port %u", &port) != 1) fail("unexpected first line");
  return (int)port;
}

/* One HTTP GET / on a fresh connection; checks the answer is "200" with body "ok\n". */
static void http_get(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(s, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) die("write request");
  char resp[1024];
  size_t len = 0;
  for (;;) {
    ssize_t n = read(s, resp + len, sizeof resp - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read response");
    if (n == 0) break;
    len += (size_t)n;
    if (len == sizeof resp - 1) fail("response too long");
  }
  resp[len] = '\0';
  close(s);
  if (strncmp(resp, "HTTP/1.1 200 ", 13) != 0 || len < 3 || strcmp(resp + len - 3, "ok\n") != 0)
    fail("unexpected HTTP response");
}

static int reap(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  return status;
}

static double *alloc_samples(int n) {
  double *v = calloc((size_t)n, sizeof *v);
  if (!v) die("calloc");
  return v;
}

static int run_cycle(int n) {
  double *ready = alloc_samples(n), *cycle = alloc_samples(n), *teardown = alloc_samples(n);
  char *args[] = {"--port", "0", NULL};
  double start = now_ms();
  for (int i = 0; i < n; ++i) {
    int out;
    double t0 = now_ms();
    pid_t pid = spawn_server(args, &out);
    int port = wait_ready(out);
    double t_ready = now_ms();
    http_get(port);
    double t_term = now_ms();
    if (kill(pid, SIGTERM) < 0) die("kill");
    int status = reap(pid);
    close(out);
    double t_end = now_ms();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("server did not exit 0 on SIGTERM");
    ready[i] = t_ready - t0;
    teardown[i] = t_end - t_term;
    cycle[i] = t_end - t0;
  }
  double total = now_ms() - start;
  printf("cycles %d\n", n);
  report("ready", ready, n);
  report("cycle", cycle, n);
  report("teardown", teardown, n);
  printf("cycles_per_s %.1f\n", n / (total / 1e3));
  free(ready);
  free(cycle);
  free(teardown);
  return 0;
}

/* Runs "refserver --flood BYTES" REPS times; to_pipe chooses a pipe we drain or /dev/null. */
static int run_flood(const char *name, const char *bytes_arg, int reps, int to_pipe) {
  static char buf[IO_BUF];
  char *args[] = {"--flood", (char *)bytes_arg, NULL};
  long long expected = strtoll(bytes_arg, NULL, 10);
  double *wall = alloc_samples(reps);
  for (int r = 0; r < reps; ++r) {
    int out = -1;
    long long got = 0;
    double t0 = now_ms();
    pid_t pid = spawn_server(args, to_pipe ? &out : NULL);
    if (to_pipe) {
      for (;;) {
        ssize_t n = read(out, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read");
        if (n == 0) break;
        got += n;
      }
    }
    int status = reap(pid);
    wall[r] = now_ms() - t0;
    if (out >= 0) close(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("flood child failed");
    if (to_pipe && got != expected) fail("short read from flood child");
  }
  qsort(wall, (size_t)reps, sizeof *wall, cmp_double);
  double median = percentile(wall, reps, 50);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%s_bytes %lld\n", name, expected);
  printf("%s_reps %d\n", name, reps);
  printf("%s_median_ms %.3f\n", name, median);
  printf("%s_min_ms %.3f\n", name, wall[0]);
  printf("%s_mib_s %.1f\n", name, (double)expected / (1024.0 * 1024.0) / (median / 1e3));
  printf("peak_rss_kib %ld\n", ru.ru_maxrss);
  free(wall);
  return 0;
}

static int pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* SIGTERM to a server that ignores it, wait GRACE_MS on its pidfd, SIGKILL, reap.
 * Overshoot = reaped time minus (SIGTERM time + grace). */
static int run_stop_ignore(int grace_ms, int n) {
  double *overshoot = alloc_samples(n);
  char *args[] = {"--port", "0", "--ignore-term", NULL};
  for (int i = 0; i < n; ++i) {
    int out;
    pid_t pid = spawn_server(args, &out);
    wait_ready(out);
    int pidfd = pidfd_open(pid);
    if (pidfd < 0) die("pidfd_open");
    double t_term = now_ms();
    if (kill(pid, SIGTERM) < 0) die("kill SIGTERM");
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int r;
    double deadline = t_term + grace_ms;
    do {
      double left = deadline - now_ms();
      if (left < 0) left = 0;
      struct timespec ts = {.tv_sec = (time_t)(left / 1e3),
                            .tv_nsec = (long)((left - (double)(time_t)(left / 1e3) * 1e3) * 1e6)};
      r = ppoll(&pfd, 1, &ts, NULL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) die("poll pidfd");
    if (r > 0) fail("server exited on SIGTERM despite --ignore-term");
    if (kill(pid, SIGKILL) < 0) die("kill SIGKILL");
    int status = reap(pid);
    overshoot[i] = now_ms() - deadline;
    close(pidfd);
    close(out);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) fail("server not killed by SIGKILL");
  }
  printf("grace_ms %d\n", grace_ms);
  printf("stops %d\n", n);
  report("overshoot", overshoot, n);
  free(overshoot);
  return 0;
}

/* SIGTERM to a cooperating server, reaped: the teardown alone. */
static int run_stop(int n) {
  double *teardown = alloc_samples(n);
  char *args[] = {"--port", "0", NULL};
  for (int i = 0; i < n; ++i) {
    int out;
    pid_t pid = spawn_server(args, &out);
    wait_ready(out);
    double t_term = now_ms();
    if (kill(pid, SIGTERM) < 0) die("kill");
    int status = reap(pid);
    teardown[i] = now_ms() - t_term;
    close(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("server did not exit 0 on SIGTERM");
  }
  printf("stops %d\n", n);
  report("teardown", teardown, n);
  free(teardown);
  return 0;
}

/* Readiness wake-up: the server stamps its listening line with CLOCK_MONOTONIC just before
 * writing it (--stamp); wake = our clock once the whole line is read, minus the stamp. */
static int run_wake(int n) {
  double *wake = alloc_samples(n);
  char *args[] = {"--port", "0", "--stamp", NULL};
  for (int i = 0; i < n; ++i) {
    int out;
    char line[256];
    pid_t pid = spawn_server(args, &out);
    read_first_line(out, line, sizeof line);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now_ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    const char *t = strstr(line, " t=");
    if (!t) fail("listening line without t= stamp");
    wake[i] = (double)(now_ns - strtoll(t + 3, NULL, 10)) / 1e6;
    if (kill(pid, SIGTERM) < 0) die("kill");
    reap(pid);
    close(out);
  }
  printf("starts %d\n", n);
  report("wake", wake, n);
  free(wake);
  return 0;
}

_Noreturn static void usage(void) {
  fprintf(stderr,
          "usage: c_baseline [--server PATH] cycle N\n"
          "       c_baseline [--server PATH] flood BYTES [REPS]\n"
          "       c_baseline [--server PATH] devnull BYTES [REPS]\n"
          "       c_baseline [--server PATH] stop-ignore GRACE_MS N\n"
          "       c_baseline [--server PATH] stop N\n"
          "       c_baseline [--server PATH] wake N\n");
  exit(2);
}

static int positive(const char *s) {
  int v = atoi(s);
  if (v <= 0) usage();
  return v;
}

int main(int argc, char **argv) {
  int i = 1;
  if (argc > 2 && strcmp(argv[1], "--server") == 0) {
    snprintf(server_path, sizeof server_path, "%s", argv[2]);
    i = 3;
  } else {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) die("readlink /proc/self/exe");
    self[n] = '\0';
    snprintf(server_path, sizeof server_path, "%s/refserver", dirname(self));
  }
  if (argc - i < 2) usage();
  const char *mode = argv[i];
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(mode, "cycle") == 0) return run_cycle(positive(argv[i + 1]));
  if (strcmp(mode, "stop") == 0) return run_stop(positive(argv[i + 1]));
  if (strcmp(mode, "wake") == 0) return run_wake(positive(argv[i + 1]));
  int reps = argc - i > 2 ? positive(argv[i + 2]) : 1;
  if (strcmp(mode, "flood") == 0) return run_flood("flood", argv[i + 1], reps, 1);
  if (strcmp(mode, "devnull") == 0) return run_flood("devnull", argv[i + 1], reps, 0);
  if (strcmp(mode, "stop-ignore") == 0 && argc - i > 2)
    return run_stop_ignore(positive(argv[i + 1]), positive(argv[i + 2]));
  usage();
}
