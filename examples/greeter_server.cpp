// A small HTTP server of our own, built on cpp-httplib, to show a suite against a C++ server.
//   greeter_server --port N      (0: any free port; prints "greeter listening on 127.0.0.1:P")
// GET /greet?name=X -> "Hello, X!"; POST /echo -> the body; GET /health -> "ok";
// GET /whoami -> "pid P" (which process answered: see shared_server_test.cpp).
// Each request is logged on stderr. SIGTERM stops it cleanly (exit 0).
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <atomic>
#include <thread>

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: greeter_server --port N\n");
    return 2;
  }
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);

  httplib::Server server;
  server.Get("/greet", [](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("name")) {
      res.status = 400;
      res.set_content("missing name\n", "text/plain");
      return;
    }
    res.set_content("Hello, " + req.get_param_value("name") + "!", "text/plain");
  });
  server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.body, "application/octet-stream");
  });
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Get("/whoami", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pid " + std::to_string(::getpid()), "text/plain");
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::fprintf(stderr, "%s %s -> %d (%zu bytes)\n", req.method.c_str(), req.path.c_str(),
                 res.status, res.body.size());
  });

  int port = std::atoi(argv[2]);
  if (port == 0) port = server.bind_to_any_port("127.0.0.1");
  else if (!server.bind_to_port("127.0.0.1", port)) port = -1;
  if (port <= 0) {
    std::fprintf(stderr, "greeter: cannot bind 127.0.0.1:%s\n", argv[2]);
    return 1;
  }
  std::printf("greeter listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);

  std::atomic<bool> listen_returned{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&term, &sig);
    std::fprintf(stderr, "greeter: SIGTERM, shutting down\n");
    // httplib's stop() does nothing until listen has started, and a SIGTERM can come right
    // after the ready line: wait out that short window (the listen call is already running).
    while (!server.is_running() && !listen_returned) std::this_thread::yield();
    server.stop();
  });
  server.listen_after_bind();
  listen_returned = true;
  stopper.join();
  std::fprintf(stderr, "greeter: bye\n");
  return 0;
}
