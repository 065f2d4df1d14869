// A program on ServerFixtures::core whose stderr console_test.cpp reads: what a user sees while
// servers run (FIXTURES_ECHO, progress lines). Modes:
//   echo               two servers at once: "noisy" writes hostile bytes and exits, "calm" is
//                      started and stopped; prints "log NAME PATH" for each on stdout
//   slow-start MS      a server ready MS ms after its spawn; prints "ready_after_ms N"
//   slow-setup-and-stop MS   a setup command that takes MS ms, then a server that ignores
//                      SIGTERM, stopped with a grace of MS ms
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fixtures/server.hpp"

using namespace std::chrono_literals;
using fixtures::Server;
using fixtures::ServerOptions;

namespace {

int Usage() {
  std::fprintf(stderr, "usage: console_child echo | slow-start MS | slow-setup-and-stop MS\n");
  return 2;
}

void PrintLog(const Server& server) {
  std::printf("log %s %s\n", server.name().c_str(), server.log().file().c_str());
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) return Usage();
  const std::string_view mode = argv[1];
  if (mode == "echo" && argc == 2) {
    Server noisy(ServerOptions{.command = {FIXTURES_HELPER, "hostile"}, .name = "noisy"});
    Server calm(ServerOptions{.command = {FIXTURES_HELPER, "print-ready", "calm and ready"},
                              .ready = fixtures::OutputMatches("^calm and ready$"),
                              .name = "calm"});
    noisy.Start();
    calm.Start();
    if (!noisy.WaitForExit(fixtures::ScaleTimeout(60s))) {
      std::fprintf(stderr, "noisy did not exit\n");
      return 1;
    }
    calm.log().Note("a note from the test");
    calm.Stop();
    PrintLog(noisy);
    PrintLog(calm);
    return 0;
  }
  if (mode == "slow-start" && argc == 3) {
    Server slow(ServerOptions{.command = {FIXTURES_HELPER, "listen-later", argv[2], "{port}"},
                              .ready = fixtures::OutputMatches("^listening$"),
                              .name = "slow"});
    slow.Start();
    std::printf("ready_after_ms %lld\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(*slow.ready_after()).count()));
    slow.Stop();
    return 0;
  }
  if (mode == "slow-setup-and-stop" && argc == 3) {
    const auto ms = std::chrono::milliseconds(std::atol(argv[2]));
    Server stubborn(ServerOptions{.command = {FIXTURES_HELPER, "ignore-term", "stubborn and ready"},
                                  .ready = fixtures::OutputMatches("^stubborn and ready$"),
                                  .stop = {.signal = SIGTERM, .grace = ms},
                                  .name = "stubborn",
                                  .setup = {{FIXTURES_HELPER, "exit-later", argv[2], "0", "setup done"}}});
    stubborn.Start();
    std::printf("stopped: %s\n", stubborn.Stop().Describe().c_str());
    return 0;
  }
  return Usage();
} catch (const std::exception& e) {
  std::fprintf(stderr, "console_child: %s\n", e.what());
  return 1;
}
