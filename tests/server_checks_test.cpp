#include "fixtures/server_checks.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pids.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;

// An exit under way is read from the kernel's flags (PF_EXITING), which a zombie keeps.
TEST(AwaitExitUnderWay, TheKernelsExitingFlagIsRead) {
  EXPECT_FALSE(detail::IsExiting(::getpid()));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);  // a zombie now
  EXPECT_TRUE(detail::IsExiting(child));
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(detail::IsExiting(child)) << "gone: no /proc entry";
}
using ::testing::HasSubstr;

// A server that writes an AddressSanitizer report, then serves on.
ServerOptions ReportingServer() {
  return {.command = {FIXTURES_HELPER, "print-ready-err",
                      "==1==ERROR: AddressSanitizer: heap-buffer-overflow\nSUMMARY: AddressSanitizer: overflow"},
          .ready = OutputMatches("^SUMMARY: "),
          .name = "reporting"};
}

TEST(FailureScanner, FindsEachReportOnceAndEachRunFromItsFirstLine) {
  Server server(ReportingServer());
  FailureScanner scanner(server);
  EXPECT_TRUE(scanner.ScanNew(0s).empty()) << "not started: nothing to scan";
  server.Start();
  auto reports = scanner.ScanNew(ScaleTimeout(30s));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pattern, "AddressSanitizer");
  EXPECT_TRUE(reports[0].complete);
  EXPECT_EQ(reports[0].lines.size(), 2u);
  EXPECT_TRUE(scanner.ScanNew(0s).empty()) << "found twice";

  server.Stop();
  server.Start();  // a new run, with a new log: scanned from its first line
  reports = scanner.ScanNew(ScaleTimeout(30s));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pattern, "AddressSanitizer");
}

TEST(FailureScanner, SkipsWhatWasJudgedElsewhere) {
  Server server(ReportingServer());
  server.Start();
  FailureScanner scanner(server);
  scanner.SkipTo(server.log().next_seq());
  EXPECT_TRUE(scanner.ScanNew(0s).empty());
}

TEST(FailureScanner, FindsNothingWithoutPatterns) {
  ServerOptions options = ReportingServer();
  options.failure_patterns = FailurePatterns::None();
  Server server(std::move(options));
  server.Start();
  FailureScanner scanner(server);
  EXPECT_TRUE(scanner.ScanNew(0s).empty());
}

TEST(RestartAfterCrash, StartsAgainOnTheSamePortAndSaysSo) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up on {port}"},
                 .ready = OutputMatches("^up on "),
                 .name = "restarted",
                 .restart_after_crash = true});
  server.Start();
  const int port = server.port();
  ASSERT_EQ(::kill(server.pid(), SIGKILL), 0);
  ASSERT_TRUE(server.WaitForExit(ScaleTimeout(30s)).has_value());
  ASSERT_TRUE(server.unexpected_exit().has_value());
  EXPECT_TRUE(RestartsAfterCrash(server));

  const std::string ports = RestartAfterCrash(server, "after it was killed");
  EXPECT_EQ(ports, " on the same port {port}=" + std::to_string(port));
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(server.runs(), 2);
  std::string notes;
  for (const Line& line : server.log().Lines()) {
    if (line.stream == Stream::kSystem) notes += line.text + "\n";
  }
  EXPECT_THAT(notes, HasSubstr("restarted after it was killed on the same port {port}=" + std::to_string(port)));
}

TEST(RestartAfterCrash, OnlyWhenTheOptionsAskForIt) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"}, .name = "kept-down"});
  EXPECT_FALSE(RestartsAfterCrash(server));
}

}  // namespace
}  // namespace fixtures
