// Hostile options: timeouts that mean "no limit".
#include "fixtures/server.hpp"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/interactive.hpp"
#include "fixtures/process.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kNoLimit = std::chrono::milliseconds::max();

// --- Timeouts too large for the clock mean "no limit" ---

TEST(Options, NoLimitStartupTimeoutWaitsForTheReadyLine) {
  // The ready line comes 200 ms after the start, as a real server's would: the wait must last.
  Server server({.command = {FIXTURES_HELPER, "listen-later", "200", "{port}"},
                 .ready = OutputMatches("^listening$"),
                 .startup_timeout = kNoLimit});
  server.Start();
  EXPECT_TRUE(server.running());
  EXPECT_TRUE(server.tcp().peer().ends_with(std::to_string(server.port())));
}

TEST(Options, NoLimitStartupTimeoutIsDescribedAsNoLimit) {
  EXPECT_THAT(DescribeTimeout(kNoLimit), HasSubstr("no limit"));
  EXPECT_THAT(DescribeTimeout(std::chrono::seconds::max()), HasSubstr("no limit"));
  EXPECT_EQ(ScaleTimeout(kNoLimit), Clock::duration::max());
  EXPECT_EQ(ScaleTimeout(std::chrono::hours::max()), Clock::duration::max());
  EXPECT_EQ(ScaleTimeout(3s), ScaleTimeout(Clock::duration(3s)));
  Server server({.command = {FIXTURES_HELPER, "exit", "3", "gave up"},
                 .ready = OutputMatches("^never$"),
                 .startup_timeout = kNoLimit});
  try {
    server.Start();
    ADD_FAILURE() << "the server started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("startup timeout: no limit")) << e.what();
  }
}

TEST(Options, NoLimitTimeoutsOfProbesAndHttpClients) {
  Server server({.command = {HTTP_HELPER, "{port}"},
                 .ready = HttpResponds({.path = "/ready", .attempt_timeout = kNoLimit}),
                 .startup_timeout = kNoLimit,
                 .http_timeout = kNoLimit});
  server.Start();
  auto client = server.http();
  auto res = client.Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "hello");
}

TEST(Options, NoLimitStopGraceWaitsForTheExit) {
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "ready"},
                 .ready = OutputMatches("^ready$"),
                 .stop = {.steps = {StopStep::Stdin("quit\n", kNoLimit)}}});
  server.Start();
  auto status = server.Stop();
  EXPECT_TRUE(status.success()) << status.Describe() << "\n" << server.process().FormatTail();
}

TEST(Options, NoLimitWaitsOfProcessAndInteractive) {
  Process process({.command = {FIXTURES_HELPER, "print-ready", "up"}});
  EXPECT_EQ(process.WaitForLine("^up$", Clock::duration::max()).line.text, "up");
  Interactive repl({.command = {FIXTURES_HELPER, "repl"}, .timeout = kNoLimit});
  repl.Expect("> ");
  repl.SendLine("echo hi");
  EXPECT_EQ(repl.Expect(R"(^hi$)").at(0), "hi");
  repl.SendLine("exit 0");
  EXPECT_TRUE(repl.ExpectEof().success());
}

}  // namespace
}  // namespace fixtures
