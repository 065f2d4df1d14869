/* refserver: the reference server every benchmark launches (see bench/README.md).
 *
 *   refserver [--port N] [--flood BYTES] [--ignore-term] [--ready-before-bind] [--stamp]
 *
 * Default: listen on 127.0.0.1:N (0 = kernel picks), print exactly one line
 * "listening on 127.0.0.1 port P" to stdout, then answer each connection's
 * "GET /" with "200 OK" and body "ok\n" (one request per connection). SIGTERM
 * ends it with status 0; with --ignore-term SIGTERM is ignored (only SIGKILL
 * stops it).
 *
 * --ready-before-bind: the line is printed before the server can accept. With
 * a fixed port it comes before bind(); with port 0 the port is only known after
 * bind(), so the line comes between bind() and listen(). Either way a client
 * that trusts the line alone may be refused.
 *
 * --stamp: the listening line ends with " t=NS", NS being CLOCK_MONOTONIC in
 * nanoseconds read just before the line is written (for wake-up latency).
 *
 * --flood BYTES: do not serve; write BYTES bytes of 100-byte lines (99 chars
 * with a running counter, then '\n') to stdout in 65500-byte writes, exit 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { LINE_LEN = 100, LINES_PER_WRITE = 655, COUNTER_DIGITS = 12 };

static int term_pipe[2] = {-1, -1};

static void die(const char *what) {
  fprintf(stderr, "refserver: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void on_term(int sig) {
  (void)sig;
  int saved = errno;
  char byte = 1;
  ssize_t ignored = write(term_pipe[1], &byte, 1); /* non-blocking; one byte is enough */
  (void)ignored;
  errno = saved;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Lines look like "line 000000000042 xxxx...x\n". The counter is kept as ASCII
 * digits and incremented in place, so building a line costs a memcpy, not a printf. */
static int flood(unsigned long long bytes) {
  static char buf[LINE_LEN * LINES_PER_WRITE];
  char line[LINE_LEN];
  memset(line, 'x', sizeof line);
  memcpy(line, "line ", 5);
  char *digits = line + 5;
  memset(digits, '0', COUNTER_DIGITS);
  digits[COUNTER_DIGITS] = ' ';
  line[LINE_LEN - 1] = '\n';

  while (bytes > 0) {
    size_t chunk = 0;
    while (chunk < sizeof buf && chunk < bytes) {
      size_t n = bytes - chunk < LINE_LEN ? (size_t)(bytes - chunk) : LINE_LEN;
      memcpy(buf + chunk, line, n);
      chunk += n;
      for (int i = COUNTER_DIGITS - 1; i >= 0 && ++digits[i] > '9'; --i) digits[i] = '0';
    }
    if (write_all(STDOUT_FILENO, buf, chunk) < 0) die("write stdout");
    bytes -= chunk;
  }
  return 0;
}

/* Waits until fd is readable (or writable); returns 0 if SIGTERM arrived first. */
static int wait_fd(int fd, short events) {
  struct pollfd fds[2] = {{.fd = fd, .events = events}, {.fd = term_pipe[0], .events = POLLIN}};
  for (;;) {
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[1].revents) return 0;
    if (fds[0].revents) return 1;
  }
}

static const char ok_response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
    "Connection: close\r\n\r\nok\n";
static const char not_found_response[] =
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
    "Connection: close\r\n\r\nnot found\n";

/* Reads one request head and answers it; returns 0 if SIGTERM arrived meanwhile. */
static int serve_one(int conn) {
  char req[4096];
  size_t len = 0;
  while (len < sizeof req - 1) {
    if (!wait_fd(conn, POLLIN)) return 0;
    ssize_t r = read(conn, req + len, sizeof req - 1 - len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return 1; /* client went away: nothing to answer */
    len += (size_t)r;
    req[len] = '\0';
    if (strstr(req, "\r\n\r\n")) break;
  }
  req[len] = '\0';
  int is_root = strncmp(req, "GET / ", 6) == 0;
  const char *resp = is_root ? ok_response : not_found_response;
  size_t n = is_root ? sizeof ok_response - 1 : sizeof not_found_response - 1;
  while (n > 0) {
    if (!wait_fd(conn, POLLOUT)) return 0;
    ssize_t w = write(conn, resp, n);
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (w < 0) return 1;
    resp += w;
    n -= (size_t)w;
  }
  return 1;
}

static int stamp = 0;

static void announce(unsigned port) {
  if (!stamp) {
    printf("listening on 127.0.0.1 port %u\n", port);
    if (fflush(stdout) != 0) die("write stdout");
    return;
  }
  /* One write(2) straight after reading the clock: the stamp is when the line left. */
  char line[96];
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int n = snprintf(line, sizeof line, "listening on 127.0.0.1 port %u t=%lld\n", port,
                   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  if (write_all(STDOUT_FILENO, line, (size_t)n) < 0) die("write stdout");
}

int main(int argc, char **argv) {
  unsigned port = 0;
  long long flood_bytes = -1;
  int ignore_term = 0, ready_before_bind = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = (unsigned)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--flood") == 0 && i + 1 < argc) {
      flood_bytes = strtoll(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--ignore-term") == 0) {
      ignore_term = 1;
    } else if (strcmp(argv[i], "--ready-before-bind") == 0) {
      ready_before_bind = 1;
    } else if (strcmp(argv[i], "--stamp") == 0) {
      stamp = 1;
    } else {
      fprintf(stderr,
              "usage: refserver [--port N] [--flood BYTES] [--ignore-term] [--ready-before-bind] "
              "[--stamp]\n");
      return 2;
    }
  }

  signal(SIGPIPE, SIG_IGN);
  if (flood_bytes >= 0) return flood((unsigned long long)flood_bytes);

  if (pipe2(term_pipe, O_CLOEXEC | O_NONBLOCK) < 0) die("pipe2");
  if (ignore_term) {
    signal(SIGTERM, SIG_IGN);
  } else {
    struct sigaction sa = {.sa_handler = on_term, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0) die("sigaction");
  }

  if (ready_before_bind && port != 0) announce(port);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  socklen_t addr_len = sizeof addr;
  if (getsockname(lfd, (struct sockaddr *)&addr, &addr_len) < 0) die("getsockname");
  unsigned bound_port = ntohs(addr.sin_port);
  if (ready_before_bind && port == 0) announce(bound_port);
  if (listen(lfd, 128) < 0) die("listen");
  if (!ready_before_bind) announce(bound_port);

  while (wait_fd(lfd, POLLIN)) {
    int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      die("accept4");
    }
    int keep_going = serve_one(conn);
    close(conn);
    if (!keep_going) break;
  }
  close(lfd);
  return 0;
}
