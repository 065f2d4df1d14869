#include "fixtures/http_stop.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/server.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kPatience = 60s;  // bounds a failure only; every wait ends on an event

std::string SystemNotes(const OutputLog& log) {
  std::string notes;
  for (auto& line : log.Lines()) if (line.stream == Stream::kSystem) notes += line.text + "\n";
  return notes;
}

TEST(HttpStop, IsACallStepThatDescribesItself) {
  StopStep step = HttpStop("POST", "/quitquitquit", 1s);
  EXPECT_EQ(step.action, StopStep::Action::kCall);
  EXPECT_TRUE(static_cast<bool>(step.call));
  EXPECT_EQ(step.grace, 1s);
  EXPECT_EQ(step.Describe(), "HTTP POST /quitquitquit");
  EXPECT_EQ(HttpStop("", "/quit", 1s, "admin").Describe(), "HTTP POST /quit on {port:admin}");
  EXPECT_EQ(HttpStop("DELETE", "/", 1s).Describe(), "HTTP DELETE /");
}

// A Process knows no ports: the step fails, is logged, and the next one follows at once.
TEST(HttpStop, FailsOnABareProcess) {
  Process process({.command = {FIXTURES_HELPER, "stdin-quit", "up"}, .stdin_pipe = true});
  process.WaitForLine("up", kPatience);
  auto status = process.Stop({.steps = {HttpStop("POST", "/quit", 600s), StopStep::Stdin("quit\n", 60s)}});
  EXPECT_EQ(status.Describe(), "exited with code 0");
  EXPECT_THAT(SystemNotes(process.log()), HasSubstr("cannot stop it by HTTP POST /quit (step 1 of 2): a Process knows "
                                                    "no ports"));
}

TEST(HttpStop, ABadMethodOrPathIsRefusedBeforeAnythingStarts) {
  for (const auto& [step, why] : {std::pair{HttpStop("POST", "quit", 1s), std::string("the path must start with '/'")},
                                  std::pair{HttpStop("BREW", "/quit", 1s), std::string("unsupported method")}}) {
    try {
      Server server({.command = {FIXTURES_HELPER, "print-ready", "up"},
                     .stop = {.steps = {StopStep::Signal(SIGTERM, 1s), step}}});
      ADD_FAILURE() << "accepted " << step.Describe();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      EXPECT_THAT(e.what(), HasSubstr("ServerOptions::stop.steps[1] (" + step.Describe() + "): " + why));
    }
  }
}

TEST(HttpStop, ACallStepWithoutACallableIsRefused) {
  try {
    Server server({.command = {FIXTURES_HELPER, "print-ready", "up"},
                   .stop = {.steps = {StopStep{.action = StopStep::Action::kCall, .grace = 1s}}}});
    ADD_FAILURE() << "accepted a call step without a callable";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_THAT(e.what(), HasSubstr("stop.steps[0] (a call) is a kCall step without a callable"));
  }
}

}  // namespace
}  // namespace fixtures
