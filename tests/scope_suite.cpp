// Run as a child by gtest_report_test.cpp: the same tests against a server per test binary
// (EnvScope, REPORT_SCOPE=environment), per suite (SuiteScope) and per test (TestScope). The
// server is asan_server, built with AddressSanitizer; some tests crash it or make it write a
// sanitizer report on purpose, and the parent checks what googletest printed and wrote.
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

namespace {

bool Is(const char* variable, const std::string& value) {
  const char* text = std::getenv(variable);
  return text != nullptr && value == text;
}

fixtures::ServerOptions Options() {
  // REPORT_OPTIONS_THROW=1: the user's set-up code in the options throws.
  if (Is("REPORT_OPTIONS_THROW", "1")) throw std::runtime_error("cannot create the test database");
  // REPORT_BROKEN=1: the server exits at once with a usage message (no port argument).
  if (Is("REPORT_BROKEN", "1")) {
    return {.command = {ASAN_SERVER}, .ready = fixtures::OutputMatches("listening on port"), .name = "asan"};
  }
  return {.command = {ASAN_SERVER, "{port}"},
          .ready = fixtures::OutputMatches("listening on port"),
          .startup_timeout = 60s,
          .name = "asan",
          .restart_after_crash = Is("REPORT_RESTART", "1"),
          // REPORT_ACCEPT_EXIT3=1: exit code 3 is how this server answers a stop.
          .accept_stop_status = Is("REPORT_ACCEPT_EXIT3", "1")
                                    ? [](const fixtures::ExitStatus& status) { return status.exited() && status.code() == 3; }
                                    : std::function<bool(const fixtures::ExitStatus&)>()};
}

fixtures::Server* environment_server =
    Is("REPORT_SCOPE", "environment") ? &fixtures::AddServerEnvironment(Options()) : nullptr;

// One real request; returns once the server has logged it.
void Get(fixtures::Server& server, const std::string& path) {
  auto res = server.http().Get(path);
  ASSERT_TRUE(res) << path << ": " << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << path;
}

// A request that ends the server; returns once it has exited.
void Kill(fixtures::Server& server, const std::string& path) {
  (void)server.http().Get(path);  // no answer: the server dies handling it
  EXPECT_TRUE(server.WaitForExit(120s).has_value()) << "the server survived " << path;
}

// REPORT_CRASH_BEFORE_TEARDOWN=1: the server dies after the last test, before the teardown
// that stops it (here for the environment; in the fixtures' teardowns for the others).
class CrashBeforeEnvironmentTearDown : public ::testing::EmptyTestEventListener {
  void OnEnvironmentsTearDownStart(const ::testing::UnitTest&) override {
    if (environment_server != nullptr && Is("REPORT_CRASH_BEFORE_TEARDOWN", "1")) Kill(*environment_server, "/segv");
  }
};
[[maybe_unused]] const bool crash_listener_added = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new CrashBeforeEnvironmentTearDown);
  return true;
}();

// A port and a client kept from an earlier test, for the tests of restarts.
std::optional<int> kept_port;
std::optional<fixtures::HttpClient> kept_client;

class EnvScope : public ::testing::Test {
 protected:
  static fixtures::Server& server() { return *environment_server; }
};

class SuiteScope : public fixtures::SuiteServerTest<SuiteScope> {
 public:
  static fixtures::ServerOptions Options() { return ::Options(); }
  static void TearDownTestSuite() {
    if (Is("REPORT_CRASH_BEFORE_TEARDOWN", "1")) Kill(server(), "/segv");
    SuiteServerTest::TearDownTestSuite();
  }
};

class TestScope : public fixtures::ServerTest {
 protected:
  TestScope() : ServerTest(Options()) {}
  void TearDown() override {
    if (Is("REPORT_CRASH_BEFORE_TEARDOWN", "1")) Kill(server(), "/segv");
    ServerTest::TearDown();
  }
};

}  // namespace

// Run in this order by the parent, through --gtest_filter.
#define FIXTURES_SCOPE_TESTS(Fixture)                                                     \
  TEST_F(Fixture, Passes) { Get(server(), "/ok"); }                                       \
  TEST_F(Fixture, KeepsAPortAndAClient) {                                                 \
    kept_port = server().port();                                                          \
    kept_client.emplace(server().http());                                                 \
    auto res = kept_client->Get("/ok");                                                   \
    ASSERT_TRUE(res) << httplib::to_string(res.error());                                  \
  }                                                                                       \
  TEST_F(Fixture, ServerDiesOfSigsegv) { Kill(server(), "/segv"); }                       \
  TEST_F(Fixture, ServerHitsAnAsanReport) { Kill(server(), "/overflow"); }                \
  TEST_F(Fixture, NeedsTheServer) { Get(server(), "/ok"); }                               \
  TEST_F(Fixture, FailsWithHostileBytes) {                                                \
    auto from = server().log().next_seq();                                                \
    Get(server(), "/hostile");                                                            \
    auto logged = server().log().WaitForLine("GET /hostile -> 200", 120s, from);          \
    ASSERT_EQ(logged.status, fixtures::WaitForLineResult::Status::kMatched);              \
    ADD_FAILURE() << "deliberate failure after hostile output";                           \
  }                                                                                       \
  TEST_F(Fixture, LeaksThenStops) { Get(server(), "/leak"); }                            \
  TEST_F(Fixture, Warns) { Get(server(), "/warn"); }                                      \
  /* The last statement kills the server; the test ends before its exit is published. */  \
  TEST_F(Fixture, CrashesInItsLastStatement) { (void)server().http().Get("/segv"); }      \
  TEST_F(Fixture, CrashesWhenStopped) { Get(server(), "/crash-on-stop"); }                \
  TEST_F(Fixture, ExitsWithCode3WhenStopped) { Get(server(), "/exit-3-on-stop"); }        \
  TEST_F(Fixture, CrashesWhenStoppedThenRestarts) {                                       \
    Get(server(), "/crash-on-stop");                                                      \
    server().Stop();                                                                      \
    server().Start();                                                                     \
    Get(server(), "/ok");                                                                 \
  }                                                                                       \
  TEST_F(Fixture, HasTheSamePortAndTheKeptClientWorks) {                                  \
    ASSERT_TRUE(kept_port && kept_client) << "run KeepsAPortAndAClient first";            \
    EXPECT_EQ(server().port(), *kept_port);                                               \
    auto res = kept_client->Get("/ok");                                                   \
    kept_client.reset();                                                                  \
    ASSERT_TRUE(res) << httplib::to_string(res.error());                                  \
    EXPECT_EQ(res->status, 200);                                                          \
  }

FIXTURES_SCOPE_TESTS(EnvScope)
FIXTURES_SCOPE_TESTS(SuiteScope)
FIXTURES_SCOPE_TESTS(TestScope)
