// Uses ServerFixtures::core alone (no GoogleTest): start a child, wait for its line, stop it.
#include <fixtures/core.hpp>

#include <cstdio>

int main() {
  using namespace std::chrono_literals;
  fixtures::Server server({.command = {"sh", "-c", "echo ready on {port}; exec sleep 600"},
                           .ready = fixtures::OutputMatches(R"(ready on (\d+))"),
                           .startup_timeout = 60s});
  server.Start();
  auto status = server.Stop();
  std::printf("core consumer: port %d, %s\n", server.port(), status.Describe().c_str());
  return status.signaled() && status.signal() == SIGTERM ? 0 : 1;
}
