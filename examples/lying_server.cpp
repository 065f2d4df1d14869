// A server that lies: it prints "ready" before it binds its port, as servers that log
// "starting..." from their main thread while a worker binds later do.
//   lying_server --port N --bind-delay-ms D    binds D ms after the lie
//   lying_server --port N --bind-on-sigusr1    binds when it gets SIGUSR1 (sent after the lie)
// Serves GET /health -> "ok" once bound; SIGTERM stops it (exit 0).
#include <httplib.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
  bool on_signal = argc == 4 && std::strcmp(argv[3], "--bind-on-sigusr1") == 0;
  if (std::strcmp(argc > 1 ? argv[1] : "", "--port") != 0 ||
      !(on_signal || (argc == 5 && std::strcmp(argv[3], "--bind-delay-ms") == 0))) {
    std::fprintf(stderr, "usage: lying_server --port N (--bind-delay-ms D | --bind-on-sigusr1)\n");
    return 2;
  }
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);  // before the lie: a SIGUSR1 sent after it waits

  std::printf("ready\n");  // the lie: nothing listens yet
  std::fflush(stdout);
  if (on_signal) {
    int sig = 0;
    sigwait(&usr1, &sig);
  } else {
    long delay = std::atol(argv[4]);
    timespec ts{delay / 1000, (delay % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }

  httplib::Server server;
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  if (!server.bind_to_port("127.0.0.1", std::atoi(argv[2]))) {
    std::fprintf(stderr, "lying_server: cannot bind port %s\n", argv[2]);
    return 1;
  }
  std::fprintf(stderr, "lying_server: now listening on %s\n", argv[2]);
  std::atomic<bool> listen_returned{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&term, &sig);
    while (!server.is_running() && !listen_returned) std::this_thread::yield();
    server.stop();
  });
  server.listen_after_bind();
  listen_returned = true;
  stopper.join();
  return 0;
}
