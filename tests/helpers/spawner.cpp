// Starts `fixtures_helper print-ready hi` through fixtures::Process, prints the server's pid,
// then waits to be killed: the test SIGKILLs this process and checks the server dies too.
#include <unistd.h>

#include <cstdio>

#include "fixtures/process.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  fixtures::ProcessOptions options;
  options.command = {argv[1], "print-ready", "hi"};
  fixtures::Process process(options);
  process.WaitForLine("hi", std::chrono::seconds(60));
  std::printf("server pid %d\n", process.pid());
  std::fflush(stdout);
  while (true) ::pause();
}
