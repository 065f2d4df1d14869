// Servers that daemonize: followed with ServerOptions::daemon, a plain error without it, and
// nothing left behind either way.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/server.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kPatience = 600s;  // for events that come at once unless something is broken

// True once `pid` has exited (or is gone), waiting for it on its pidfd up to kPatience.
bool Ends(int pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;
  pollfd p{pidfd, POLLIN, 0};
  bool ended = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kPatience).count())) == 1;
  ::close(pidfd);
  return ended;
}

std::filesystem::path TempPath(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("daemon-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

// The launcher's pid, from the log's first line ("started pid N: ...").
int LauncherPid(const Server& server) {
  auto lines = server.log().Lines();
  std::smatch match;
  for (const auto& line : lines) {
    if (std::regex_search(line.text, match, std::regex(R"(^started pid (\d+))"))) return std::stoi(match[1]);
  }
  return 0;
}

TEST(Daemon, FollowedThroughItsPidFileAsTheServer) {
  const auto pid_file = TempPath("pidfile-{port}.pid");
  Server server({.command = {FIXTURES_HELPER, "daemonize", "{port}", pid_file.string()},
                 .ready = TcpAccepts(),
                 .startup_timeout = 600s,
                 .daemon = Daemon::PidFile(pid_file)});
  server.Start();
  const int daemon = server.pid();
  EXPECT_NE(daemon, LauncherPid(server));
  EXPECT_TRUE(server.running());
  auto client = server.tcp();
  EXPECT_EQ(client.ReadLine(kPatience), "pid " + std::to_string(daemon));
  ExitStatus status = server.Stop();
  // Its real status: it became our child (we are a subreaper) and we reaped it.
  EXPECT_EQ(status.Describe(), "killed by SIGTERM");
  EXPECT_TRUE(Ends(daemon));
  EXPECT_FALSE(server.unexpected_exit().has_value());
}

TEST(Daemon, FoundAsTheOneProcessLeftAndItsCrashIsSeenWithItsStatus) {
  // Under the sanitizer presets the helper is instrumented: its runtime would turn the SIGSEGV
  // into an exit code of its own. Let the signal be the signal.
  auto keep_segv = [](const char* variable) {
    const char* value = std::getenv(variable);
    return std::pair<std::string, std::string>(variable, (value != nullptr ? std::string(value) + ":" : "") + "handle_segv=0");
  };
  Server server({.command = {FIXTURES_HELPER, "daemonize", "{port}"},
                 .ready = TcpAccepts(),
                 .startup_timeout = 600s,
                 .env = {keep_segv("ASAN_OPTIONS"), keep_segv("TSAN_OPTIONS")},
                 .daemon = Daemon::Forks()});
  server.Start();
  // The double fork's intermediate may be followed first; the daemon once it has exited.
  auto listening = server.log().WaitForLine(R"(daemon (\d+) listening)", kPatience);
  ASSERT_TRUE(listening.match.has_value());
  const std::string daemon = listening.match->groups[1];
  auto client = server.tcp();
  EXPECT_EQ(client.ReadLine(kPatience), "pid " + daemon);
  client.Send("crash");
  auto status = server.WaitForExit(kPatience);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->Describe(), "killed by SIGSEGV");
  ASSERT_TRUE(server.unexpected_exit().has_value());
  EXPECT_EQ(server.unexpected_exit()->signal(), SIGSEGV);
  EXPECT_EQ(std::to_string(server.pid()), daemon);
  std::string log = OutputLog::Format(server.log().Lines(), server.log().start_time());
  EXPECT_THAT(log, HasSubstr("following daemon pid " + daemon + " (the process it left running"));
}

// Checks `message` names the daemon that was left running and what to set, and that it died.
void ExpectDaemonHint(const std::string& message) {
  std::smatch match;
  ASSERT_TRUE(std::regex_search(message, match,
                                std::regex(R"(it daemonized: it exited with code 0 and left process (\d+) \(`[^`]*fixtures_helper daemonize )")))
      << message;
  EXPECT_THAT(message, HasSubstr("fixtures::Daemon::PidFile(PATH)"));
  EXPECT_TRUE(Ends(std::stoi(match[1]))) << "the daemon was left running";
}

TEST(Daemon, WithoutTheOptionTheStartErrorNamesTheDaemonAndWhatToSet) {
  // A ready line that never comes: the launcher's exit is seen before readiness.
  Server server({.command = {FIXTURES_HELPER, "daemonize", "{port}"},
                 .ready = OutputMatches("never printed"),
                 .startup_timeout = 600s});
  try {
    server.Start();
    FAIL() << "started a server whose launcher exited";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady);
    std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("exited with code 0 before it was ready"));
    ExpectDaemonHint(message);
  }
}

// With a port probe the daemon may answer before its launcher's exit is seen: then the start
// succeeds and the launcher's exit ends the run at once. Either way the run ends, the daemon
// dies, and the message says what happened: never a daemon left running, never a silent pass.
TEST(Daemon, WithoutTheOptionItNeverPassesSilently) {
  Server server({.command = {FIXTURES_HELPER, "daemonize", "{port}"}, .ready = TcpAccepts(), .startup_timeout = 600s});
  try {
    server.Start();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady);
    ExpectDaemonHint(e.what());
    return;
  }
  auto status = server.WaitForExit(kPatience);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(server.unexpected_exit().has_value());
  ExpectDaemonHint(server.DaemonHint(*status));
}

TEST(Daemon, APidFileThatNeverNamesItFailsTheStartSayingSo) {
  const auto pid_file = TempPath("never-{port}.pid");
  // The 1 s count from the launcher's exit, however late that comes.
  Server server({.command = {FIXTURES_HELPER, "daemonize", "{port}"},  // writes no pid file
                 .ready = TcpAccepts(),
                 .startup_timeout = 600s,
                 .daemon = {.enabled = true, .pid_file = pid_file, .timeout = 1s}});
  try {
    server.Start();
    FAIL() << "started without its pid file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("(its pid file " + pid_file.parent_path().string() + "/never-" +
                                    std::to_string(server.port()) + ".pid did not name a running process of it within " +
                                    DescribeTimeout(1s).substr(0, DescribeTimeout(1s).find(' ')) + ")"));
    EXPECT_THAT(e.what(), HasSubstr("never-" + std::to_string(server.port()) + ".pid"));
  }
  EXPECT_FALSE(server.running());
  for (const auto& left : server.process().left_running()) EXPECT_TRUE(Ends(left.pid));
  EXPECT_EQ(server.process().left_running().size(), 1u);
}

}  // namespace
}  // namespace fixtures
