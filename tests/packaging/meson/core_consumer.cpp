// ServerFixtures::core from a Meson project (no GoogleTest): start Python's HTTP server, ask it
// for its listing through the HTTP client (cpp-httplib, from the .pc's Requires), stop it.
#include <fixtures/core.hpp>

#include <cstdio>

int main() {
  using namespace std::chrono_literals;
  fixtures::Server web({.command = {"python3", "-u", "-m", "http.server", "{port}", "--bind", "127.0.0.1"},
                        .ready = fixtures::OutputMatches(R"(Serving HTTP on \S+ port (\d+))"),
                        .startup_timeout = 60s});
  web.Start();
  auto res = web.http().Get("/");
  int status = res ? res->status : 0;
  auto stopped = web.Stop();
  std::printf("meson core consumer: GET / -> %d; server %s\n", status, stopped.Describe().c_str());
  return status == 200 ? 0 : 1;
}
