// Run as a child by gtest_report_test.cpp: a gtest binary whose tests fail on purpose, so the
// failure report can be checked from the outside. REPORT_MODE=start-fails breaks the start.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

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

bool ModeIs(const std::string& mode) {
  const char* value = std::getenv("REPORT_MODE");
  return value != nullptr && value == mode;
}

// REPORT_MODE=watch-during-restart: a server restarted after a crash whose restart is ready only
// once another thread has watched and unwatched a server. Were the glue's lock held across the
// restart, that thread would wait for it, and the restart would time out.
std::atomic<bool> watched_meanwhile{false};
std::optional<std::jthread> watcher;

fixtures::CheckResult ReadyOnceAnotherThreadWatched(fixtures::Server& self) {
  if (self.runs() == 1) return fixtures::CheckResult::Ready();  // the first start
  if (!watcher) {
    watcher.emplace([] {
      fixtures::Server other({.command = {FIXTURES_HELPER, "print-ready", "never started"}, .name = "other"});
      fixtures::WatchServer(other);
      fixtures::UnwatchServer(other);
      watched_meanwhile = true;
    });
  }
  return watched_meanwhile ? fixtures::CheckResult::Ready()
                           : fixtures::CheckResult::NotYet("another thread is still watching a server");
}

fixtures::Server* restarting = [] {
  if (!ModeIs("watch-during-restart")) return static_cast<fixtures::Server*>(nullptr);
  static fixtures::Server* self = nullptr;
  self = &fixtures::AddServerEnvironment(
      {.command = {FIXTURES_HELPER, "print-ready", "up"},
       .ready = fixtures::Check("another thread watched a server",
                                [](const fixtures::ProbeContext&) { return ReadyOnceAnotherThreadWatched(*self); }),
       .startup_timeout = 60s,
       .name = "restarting",
       .restart_after_crash = true});
  return self;
}();

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

TEST(Restart, ServerIsKilled) {
  if (restarting == nullptr) GTEST_SKIP() << "REPORT_MODE=watch-during-restart only";
  ASSERT_EQ(::kill(restarting->pid(), SIGKILL), 0);
  EXPECT_TRUE(restarting->WaitForExit(60s).has_value());
}

TEST(Restart, AnotherThreadWatchedDuringTheRestart) {
  if (restarting == nullptr) GTEST_SKIP() << "REPORT_MODE=watch-during-restart only";
  EXPECT_TRUE(watched_meanwhile);
  EXPECT_TRUE(restarting->running());
}
