// A tiny HTTP backend of our own (cpp-httplib) to put behind nginx in nginx_proxy_test.cpp.
//   backend_server --port N      (prints "backend listening on 127.0.0.1:N")
// GET /hello -> "hello from the backend"; GET /whoami -> "pid P" (which process answered);
// GET /crash -> abort(), to show a crash and the restart. Each request is logged on stderr.
// SIGTERM stops it cleanly (exit 0).
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: backend_server --port N\n");
    return 2;
  }
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);

  httplib::Server server;
  server.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello from the backend", "text/plain");
  });
  server.Get("/whoami", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pid " + std::to_string(::getpid()), "text/plain");
  });
  server.Get("/crash", [](const httplib::Request&, httplib::Response&) {
    std::fprintf(stderr, "backend: /crash asked for, aborting\n");
    std::abort();
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });

  int port = std::atoi(argv[2]);
  if (!server.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "backend: cannot bind 127.0.0.1:%d\n", port);
    return 1;
  }
  std::printf("backend listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);

  std::atomic<bool> listen_returned{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&term, &sig);
    // httplib's stop() does nothing until listen has started (see greeter_server.cpp).
    while (!server.is_running() && !listen_returned) std::this_thread::yield();
    server.stop();
  });
  server.listen_after_bind();
  listen_returned = true;
  stopper.join();
  std::fprintf(stderr, "backend: bye\n");
  return 0;
}
