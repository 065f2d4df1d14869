// Run as a child by gtest_report_test.cpp: a gtest binary whose tests fail on purpose, so the
// failure report can be checked from the outside. REPORT_MODE=start-fails breaks the start.
#include <cstdlib>
#include <string>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

namespace {

fixtures::ServerOptions Options() {
  const char* mode = std::getenv("REPORT_MODE");
  if (mode != nullptr && std::string(mode) == "start-fails") {
    return {.command = {FIXTURES_HELPER, "exit", "7", "cannot open database"},
            .ready = fixtures::OutputMatches("listening"),
            .startup_timeout = 600s,
            .name = "broken"};
  }
  return {.command = {HTTP_HELPER, "{port}"},
          .ready = fixtures::OutputMatches("listening on port"),
          .startup_timeout = 60s,
          .name = "web"};
}

fixtures::Server& web = fixtures::AddServerEnvironment(Options());

// One real request; returns once the server has logged it.
void Request(const std::string& path) {
  auto from = web.log().next_seq();
  auto res = web.http().Get(path);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  web.process().WaitForLine("GET " + path + " -> ", 60s, from);
}

}  // namespace

TEST(Report, PassingTest) { Request("/passing-test-path"); }

TEST(Report, FailingTest) {
  Request("/failing-test-path");
  EXPECT_EQ(1 + 1, 3) << "deliberate failure";
}

TEST(Report, LaterTest) { Request("/later-test-path"); }

// REPORT_MODE=crash: the server dies during this test, and the next one cannot run.
TEST(Crash, ServerDiesDuringThisTest) {
  const char* mode = std::getenv("REPORT_MODE");
  if (mode == nullptr || std::string(mode) != "crash") GTEST_SKIP() << "REPORT_MODE=crash only";
  (void)web.http().Get("/crash");  // no answer: the handler aborts the server
  EXPECT_TRUE(web.process().WaitFor(60s).has_value());
}

TEST(Crash, NextTestFailsAtOnce) {
  const char* mode = std::getenv("REPORT_MODE");
  if (mode == nullptr || std::string(mode) != "crash") GTEST_SKIP() << "REPORT_MODE=crash only";
  ADD_FAILURE() << "this body must not run after the crash";
}
