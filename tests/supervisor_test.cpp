// Nothing a test process starts outlives it: servers, their children, and descendants that
// left the process group and session (setsid, double fork), however the test process dies.
#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <unistd.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/process.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kPatience = 600s;  // for events that come at once unless something is broken

std::string ReadProcFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The live processes whose environment holds `entry` ("NAME=VALUE"), with their command lines.
std::vector<std::pair<int, std::string>> ProcessesWith(const std::string& entry) {
  std::vector<std::pair<int, std::string>> found;
  DIR* proc = ::opendir("/proc");
  while (dirent* e = proc ? ::readdir(proc) : nullptr) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string environ = '\0' + ReadProcFile("/proc/" + std::to_string(pid) + "/environ");
    if (environ.find('\0' + entry + '\0') == std::string::npos) continue;
    std::string command = ReadProcFile("/proc/" + std::to_string(pid) + "/cmdline");
    for (char& c : command) c = c == '\0' ? ' ' : c;
    found.emplace_back(pid, command);
  }
  if (proc) ::closedir(proc);
  return found;
}

std::string Describe(const std::vector<std::pair<int, std::string>>& processes) {
  std::string text;
  for (const auto& [pid, command] : processes) text += "  " + std::to_string(pid) + ": " + command + "\n";
  return text.empty() ? "  (none)\n" : text;
}

std::string RandomToken() {
  std::random_device random;
  return std::to_string(random()) + "-" + std::to_string(random());
}

// True when this process could make a cgroup v2 under its own (as the library would).
bool CanMakeCgroups() {
  std::string own;
  std::istringstream cgroups(ReadProcFile("/proc/self/cgroup"));
  for (std::string line; std::getline(cgroups, line);) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  std::istringstream mounts(ReadProcFile("/proc/self/mountinfo"));
  for (std::string line; !own.empty() && std::getline(mounts, line);) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, devices, root, mount_point;
    fields >> id >> parent >> devices >> root >> mount_point;
    if (root != "/") continue;
    std::string probe = mount_point + (own == "/" ? "" : own) + "/probe-" + std::to_string(::getpid());
    if (::mkdir(probe.c_str(), 0755) != 0) return false;
    ::rmdir(probe.c_str());
    return ::access((mount_point + (own == "/" ? "" : own) + "/cgroup.procs").c_str(), W_OK) == 0;
  }
  return false;
}

struct DeathCase {
  const char* how;       // spawner's way to die
  int signal;            // what it dies of
  const char* cgroup;    // FIXTURES_CGROUP: "1" (used where it can be), "0" (environment tokens)
};

void PrintTo(const DeathCase& death, std::ostream* out) { *out << death.how << " FIXTURES_CGROUP=" << death.cgroup; }

class TestProcessDeath : public ::testing::TestWithParam<DeathCase> {};

// The acceptance of issue 10, point 4: a test binary running a server with a grandchild and a
// server whose grandchild called setsid dies (SIGKILL, SIGINT, abort); 1 s later no
// descendant of it is left, found by an environment token of the test's own.
TEST_P(TestProcessDeath, LeavesNoDescendantBehind) {
  const DeathCase& death = GetParam();
  const std::string entry = "FIXTURES_TEST_TOKEN=" + RandomToken();
  // Not contained by us (die_with_parent false): only its own supervision may clean up.
  Process spawner({.command = {SPAWNER, FIXTURES_HELPER, "tree", death.how},
                   .env = {{"FIXTURES_TEST_TOKEN", entry.substr(entry.find('=') + 1)},
                           {"FIXTURES_CGROUP", death.cgroup}},
                   .stdin_pipe = true,
                   .die_with_parent = false});
  auto ready = spawner.WaitForLine(R"(^tree ready: escaped (\d+)$)", kPatience);
  // The escaped grandchild runs, and nothing killed it before the test process died.
  ASSERT_FALSE(ProcessesWith(entry).empty());
  const int escaped = std::stoi(ready.groups[1]);
  ASSERT_EQ(::kill(escaped, 0), 0) << "the escaped grandchild " << escaped << " is not running";
  // The containment asked for is the one used (where the machine allows cgroups).
  const bool in_cgroup = ReadProcFile("/proc/" + std::to_string(escaped) + "/cgroup").find("/fixtures-") != std::string::npos;
  if (std::string(death.cgroup) == "0") {
    EXPECT_FALSE(in_cgroup) << "FIXTURES_CGROUP=0 still made a cgroup";
  } else if (CanMakeCgroups()) {
    EXPECT_TRUE(in_cgroup) << "cgroups can be made here, but the grandchild is not in one of ours";
  } else {
    ::testing::Test::RecordProperty("containment", "no cgroup v2 can be made here: the token path was tested");
  }
  spawner.WriteStdin("die now\n", kPatience);
  auto status = spawner.WaitFor(kPatience);
  ASSERT_TRUE(status.has_value()) << spawner.FormatTail();
  EXPECT_EQ(status->signal(), death.signal) << status->Describe();

  // Its watchdog carries the test's token too (it is a fork of the test process): it is the
  // last to go, once it has killed the rest. Wait for the list to empty, up to 1 s.
  auto deadline = Clock::now() + ScaleTimeout(1s);
  auto left = ProcessesWith(entry);
  while (!left.empty() && Clock::now() < deadline) {
    // Each process in the list is on its way out; its exit is what we wait for.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, left.front().first, 0));
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      ::poll(&p, 1, static_cast<int>(std::max<long long>(ms, 0)));
      ::close(pidfd);
    }
    left = ProcessesWith(entry);
  }
  EXPECT_TRUE(left.empty()) << "still running " << DescribeTimeout(1s) << " after the test process died of "
                            << SignalName(death.signal) << ":\n" << Describe(left);
}

INSTANTIATE_TEST_SUITE_P(
    HowItDies, TestProcessDeath,
    ::testing::Values(DeathCase{"sigkill", SIGKILL, "1"}, DeathCase{"sigint", SIGINT, "1"},
                      DeathCase{"abort", SIGABRT, "1"}, DeathCase{"sigkill", SIGKILL, "0"},
                      DeathCase{"sigint", SIGINT, "0"}, DeathCase{"abort", SIGABRT, "0"}),
    [](const ::testing::TestParamInfo<DeathCase>& param) {
      return std::string(param.param.how) + (std::string(param.param.cgroup) == "1" ? "_Cgroup" : "_Token");
    });

// A server's descendant that left its process group dies with the server, not later: the
// next start must find its port and files free.
TEST(Containment, AnEscapedGrandchildDiesWhenItsServerExits) {
  Process server({.command = {FIXTURES_HELPER, "escape", "up"}});
  server.WaitForLine("^up$", kPatience);
  auto escaped = server.WaitForLine(R"(escaped (\d+))", kPatience);
  int grandchild = std::stoi(escaped.groups[1]);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, grandchild, 0));
  ASSERT_GE(pidfd, 0) << "the grandchild is not running";
  server.Stop();
  pollfd p{pidfd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kPatience).count())), 1)
      << "the grandchild " << grandchild << " outlived its server";
  ::close(pidfd);
  auto left = server.left_running();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].pid, grandchild);
  EXPECT_THAT(left[0].command, HasSubstr("escape up"));
  EXPECT_THAT(OutputLog::Format(server.log().Lines(), server.log().start_time()),
              HasSubstr("killed 1 process it left running: " + std::to_string(grandchild)));
}

}  // namespace
}  // namespace fixtures
