// Hostile options: timeouts that mean "no limit", negative durations, NUL bytes, bad
// environment names, an empty program. Each is either given a meaning or refused when the
// options are checked (Server and Process construction), before anything is started.
#include "fixtures/server.hpp"

#include <chrono>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/interactive.hpp"
#include "fixtures/process.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kNoLimit = std::chrono::milliseconds::max();

// The message of the kBadInput error `f` throws; a test failure when it throws nothing or
// another kind.
std::string BadInput(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error: the options were accepted";
  return "";
}

std::string BadServerOptions(ServerOptions options) {
  return BadInput([&] { Server server(std::move(options)); });
}

std::string BadProcessOptions(ProcessOptions options) {
  return BadInput([&] { Process process(std::move(options)); });
}

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
  EXPECT_EQ(repl.Expect(R"(\Ahi$)").at(0), "hi");  // after the consumed prompt: not a line start
  repl.Expect("> ");  // ExpectEof wants nothing unread
  repl.SendLine("exit 0");
  EXPECT_TRUE(repl.ExpectEof().success());
}

// --- Negative durations are refused ---

TEST(Options, NegativeStartupTimeoutIsRefused) {
  auto message = BadServerOptions({.command = {FIXTURES_HELPER, "print-ready", "x"},
                                   .startup_timeout = -5ms});
  EXPECT_THAT(message, AllOf(HasSubstr("startup_timeout"), HasSubstr("-5ms"), HasSubstr("0 or more")));
}

TEST(Options, NegativeGracesAndHttpTimeoutAreRefused) {
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "print-ready", "x"},
                                .stop = {.signal = SIGTERM, .grace = -1s}}),
              AllOf(HasSubstr("stop.grace"), HasSubstr("-1s"), HasSubstr("0 or more")));
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "print-ready", "x"},
                                .stop = {.steps = {StopStep::Signal(SIGINT, 1s), StopStep::Signal(SIGTERM, -2ms)}}}),
              AllOf(HasSubstr("stop.steps[1].grace"), HasSubstr("-2ms"), HasSubstr("0 or more")));
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "print-ready", "x"}, .http_timeout = -10ms}),
              AllOf(HasSubstr("http_timeout"), HasSubstr("-10ms"), HasSubstr("0 or more")));
  EXPECT_THAT(BadInput([] { Interactive repl({.command = {FIXTURES_HELPER, "repl"}, .timeout = -1ms}); }),
              AllOf(HasSubstr("InteractiveOptions::timeout"), HasSubstr("-1ms")));
}

// --- NUL bytes, environment names, the program ---

TEST(Options, NulByteInAnArgumentIsRefused) {
  const std::string with_nul("a\0b", 3);
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "print-ready", with_nul}}),
              AllOf(HasSubstr("ServerOptions::command[2]"), HasSubstr(R"("a\x00b")"), HasSubstr("NUL")));
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "print-ready", "{port}" + with_nul}}),
              AllOf(HasSubstr("ServerOptions::command[2]"), HasSubstr(R"("{port}a\x00b")")));
  EXPECT_THAT(BadProcessOptions({.command = {FIXTURES_HELPER, "print-ready", with_nul}}),
              AllOf(HasSubstr("ProcessOptions::command[2]"), HasSubstr(R"("a\x00b")"), HasSubstr("NUL")));
}

TEST(Options, NulByteInTheEnvironmentOrCwdIsRefused) {
  const std::string with_nul("a\0b", 3);
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"X", with_nul}}}),
              AllOf(HasSubstr("ServerOptions::env[0]"), HasSubstr("X"), HasSubstr(R"("a\x00b")"), HasSubstr("NUL")));
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"Y", "1"}, {with_nul, "1"}}}),
              AllOf(HasSubstr("ServerOptions::env[1]"), HasSubstr(R"("a\x00b")"), HasSubstr("NUL")));
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "pwd"}, .cwd = "/tmp" + with_nul}),
              AllOf(HasSubstr("ServerOptions::cwd"), HasSubstr(R"("/tmpa\x00b")"), HasSubstr("NUL")));
  EXPECT_THAT(BadProcessOptions({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"X", with_nul}}}),
              AllOf(HasSubstr("ProcessOptions::env[0]"), HasSubstr(R"("a\x00b")")));
  EXPECT_THAT(BadProcessOptions({.command = {FIXTURES_HELPER, "pwd"}, .cwd = "/tmp" + with_nul}),
              AllOf(HasSubstr("ProcessOptions::cwd"), HasSubstr(R"("/tmpa\x00b")")));
}

TEST(Options, EmptyOrEqualsEnvironmentNameIsRefused) {
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"", "1"}}}),
              AllOf(HasSubstr("ServerOptions::env[0]"), HasSubstr("name"), HasSubstr("empty")));
  EXPECT_THAT(BadServerOptions({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"X=Y", "1"}}}),
              AllOf(HasSubstr("ServerOptions::env[0]"), HasSubstr(R"("X=Y")"), HasSubstr("'='")));
  EXPECT_THAT(BadProcessOptions({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"X=Y", "1"}}}),
              AllOf(HasSubstr("ProcessOptions::env[0]"), HasSubstr(R"("X=Y")"), HasSubstr("'='")));
}

TEST(Options, EmptyProgramIsNotAnEmptyCommand) {
  EXPECT_THAT(BadServerOptions({.command = {"", "arg"}}),
              AllOf(HasSubstr("ServerOptions::command[0] (the program) is empty"), Not(HasSubstr("command is empty"))));
  EXPECT_THAT(BadServerOptions({.command = {}}), HasSubstr("ServerOptions::command is empty"));
  EXPECT_THAT(BadProcessOptions({.command = {"", "arg"}}),
              HasSubstr("ProcessOptions::command[0] (the program) is empty"));
  EXPECT_THAT(BadProcessOptions({.command = {}}), HasSubstr("ProcessOptions::command is empty"));
}

TEST(Options, PlaceholdersStayValidAfterTheCheck) {
  Server server({.command = {FIXTURES_HELPER, "env", "SERVER_PORT"},
                 .ready = OutputMatches(R"(^(\d+)$)"),
                 .env = {{"SERVER_PORT", "{port}"}, {"UNUSED", "{port:admin}"}}});
  server.Start();
  EXPECT_EQ(server.ready_groups().at(1), std::to_string(server.port()));
}

}  // namespace
}  // namespace fixtures
