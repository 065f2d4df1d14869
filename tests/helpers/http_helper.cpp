// A small HTTP server for the tests: `http_helper PORT [UNHEALTHY]` (0: any free port)
// answers GET /health with 503 to its first UNHEALTHY requests, then 200 "healthy"; serves
// GET of any path -> "hello", logs each request on stderr, prints "listening on port P" once bound,
// and stops cleanly on SIGTERM.
#include <httplib.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <thread>

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: http_helper PORT [UNHEALTHY]\n");
    return 2;
  }
  std::atomic<int> unhealthy{argc == 3 ? std::atoi(argv[2]) : 0};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // handled by the waiting thread below

  httplib::Server server;
  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    if (unhealthy.fetch_sub(1) > 0) {
      res.status = 503;
      res.set_content("warming up", "text/plain");
    } else {
      res.set_content("healthy", "text/plain");
    }
  });
  server.Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello", "text/plain");
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });
  int port = std::atoi(argv[1]);
  if (port == 0) port = server.bind_to_any_port("127.0.0.1");
  else if (!server.bind_to_port("127.0.0.1", port)) port = -1;
  if (port <= 0) {
    std::fprintf(stderr, "cannot bind 127.0.0.1:%s\n", argv[1]);
    return 1;
  }
  std::printf("listening on port %d\n", port);
  std::fflush(stdout);
  std::atomic<bool> listen_returned{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "got SIGTERM, stopping\n");
    // httplib's stop() does nothing until listen has started, and a SIGTERM can come right
    // after the ready line: wait out that short window (the listen call is already running).
    while (!server.is_running() && !listen_returned) std::this_thread::yield();
    server.stop();
  });
  server.listen_after_bind();
  listen_returned = true;
  stopper.join();
  return 0;
}
