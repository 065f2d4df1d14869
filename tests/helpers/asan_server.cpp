// An HTTP server built with -fsanitize=address in every preset, so the failure-pattern tests
// read reports from a real sanitizer: `asan_server PORT` prints "listening on port P", then
//   GET /ok        -> "ok"
//   GET /overflow  -> a heap-buffer-overflow: AddressSanitizer reports it and ends the server
//   GET /leak      -> loses 4096 bytes: LeakSanitizer reports them when the server exits
//   GET /segv      -> the server dies of SIGSEGV (the sanitizer's handler is put back first)
//   GET /warn      -> writes a "runtime error:" line (as UBSan does) and goes on
//   GET /hostile   -> writes hostile bytes on stderr (see hostile.hpp)
//   GET /crash-on-stop  -> answers; SIGTERM then kills it with SIGSEGV (a crash during the stop)
//   GET /exit-3-on-stop -> answers; SIGTERM then ends it with exit code 3
// Every request is logged on stderr; SIGTERM ends it with exit(0), so LeakSanitizer runs.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "hostile.hpp"

namespace {

void* volatile g_sink;  // keeps the compiler from removing the faulty accesses

enum class OnStop { kExit0, kSegv, kExit3 };
std::atomic<OnStop> g_on_stop{OnStop::kExit0};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: asan_server PORT\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // handled by the waiting thread below
  httplib::Server server;
  server.Get("/ok", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  server.Get("/overflow", [](const httplib::Request&, httplib::Response& res) {
    char* buffer = static_cast<char*>(std::malloc(16));
    g_sink = buffer;
    volatile int index = 16;
    buffer[index] = 'x';  // one past the end
    std::free(buffer);
    res.set_content("survived", "text/plain");
  });
  server.Get("/leak", [](const httplib::Request&, httplib::Response& res) {
    void* lost = std::malloc(4096);
    std::memset(lost, 1, 4096);
    g_sink = lost;
    g_sink = nullptr;  // the only pointer is gone: a leak
    res.set_content("leaked", "text/plain");
  });
  server.Get("/segv", [](const httplib::Request&, httplib::Response&) {
    std::fprintf(stderr, "about to die of SIGSEGV\n");
    ::signal(SIGSEGV, SIG_DFL);
    ::raise(SIGSEGV);
  });
  server.Get("/warn", [](const httplib::Request&, httplib::Response& res) {
    // The shape of a UndefinedBehaviorSanitizer report the server survives.
    std::fprintf(stderr, "asan_server.cpp:1:2: runtime error: a deliberate report for the tests\n");
    std::fflush(stderr);
    res.set_content("warned", "text/plain");
  });
  server.Get("/hostile", [](const httplib::Request&, httplib::Response& res) {
    std::string bytes = fixtures_test::HostileXml() + fixtures_test::HostileStderr() + "\n";
    std::fwrite(bytes.data(), 1, bytes.size(), stderr);
    std::fflush(stderr);
    res.set_content("written", "text/plain");
  });
  server.Get("/crash-on-stop", [](const httplib::Request&, httplib::Response& res) {
    g_on_stop = OnStop::kSegv;
    res.set_content("will crash on SIGTERM", "text/plain");
  });
  server.Get("/exit-3-on-stop", [](const httplib::Request&, httplib::Response& res) {
    g_on_stop = OnStop::kExit3;
    res.set_content("will exit 3 on SIGTERM", "text/plain");
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
    if (g_on_stop == OnStop::kSegv) {
      std::fprintf(stderr, "crashing on SIGTERM\n");
      ::signal(SIGSEGV, SIG_DFL);
      ::raise(SIGSEGV);
    }
    if (g_on_stop == OnStop::kExit3) {
      std::fprintf(stderr, "exiting with code 3 on SIGTERM\n");
      std::_Exit(3);
    }
    while (!server.is_running() && !listen_returned) std::this_thread::yield();
    server.stop();
  });
  server.listen_after_bind();
  listen_returned = true;
  stopper.join();
  std::exit(0);  // LeakSanitizer checks at exit
}
