// For the examples against servers installed from the system's packages (redis, memcached,
// nginx, MariaDB): find the program, or skip the test when it is not there.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>

namespace examples {

/// The path of `program` when it is installed: looked up on PATH, then in the sbin directories
/// a normal user's PATH lacks (nginx and mariadbd live in /usr/sbin); "" when it is not found.
inline std::string Installed(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(std::string(path ? path : "") + ":/usr/local/sbin:/usr/sbin:/sbin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace examples

/// In a fixture's SetUp: skips the test, saying why, when `program` is not installed.
#define EXAMPLES_SKIP_UNLESS_INSTALLED(program)                                          \
  if (examples::Installed(program).empty())                                              \
  GTEST_SKIP() << (program) << " is not installed (scripts/install-deps.sh installs it)"
