// A test process that dies with servers running, for the tests that check what it leaves.
//   spawner HELPER          starts `HELPER print-ready hi` through fixtures::Process, prints
//                           the server's pid, then waits to be killed (the test SIGKILLs it).
//   spawner HELPER tree HOW starts `HELPER grandchild` (a server with a child) and
//                           `HELPER escape up` (a server whose grandchild left its session and
//                           process group), prints "tree ready: escaped PID", reads a line from stdin, then dies by HOW: sigkill,
//                           sigint or abort.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fixtures/process.hpp"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  if (argc == 2) {
    fixtures::ProcessOptions options;
    options.command = {argv[1], "print-ready", "hi"};
    fixtures::Process process(options);
    process.WaitForLine("hi", std::chrono::seconds(60));
    std::printf("server pid %d\n", process.pid());
    std::fflush(stdout);
    while (true) ::pause();
  }
  if (argc != 4 || std::string_view(argv[2]) != "tree") return 2;
  fixtures::Process with_child({.command = {argv[1], "grandchild"}});
  fixtures::Process escaping({.command = {argv[1], "escape", "up"}});
  with_child.WaitForLine("parent ready", 600s);
  escaping.WaitForLine("^up$", 600s);
  auto escaped = escaping.WaitForLine(R"(escaped (\d+))", 600s);
  std::printf("tree ready: escaped %s\n", escaped.groups[1].c_str());
  std::fflush(stdout);
  char go[16];
  if (std::fgets(go, sizeof go, stdin) == nullptr) return 4;  // the test says when
  std::string_view how = argv[3];
  if (how == "sigkill") ::raise(SIGKILL);
  if (how == "sigint") {
    ::signal(SIGINT, SIG_DFL);
    ::raise(SIGINT);
  }
  if (how == "abort") std::abort();
  return 3;
}
