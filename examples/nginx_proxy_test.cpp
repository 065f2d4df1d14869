// nginx as a reverse proxy in front of a backend of our own: two servers wired by their ports.
// The backend gets a reserved {port}; nginx's config is written into its run directory from the
// template nginx.conf.in, which sends every request to {backend.port}. No shell, no sed, no
// temporary directory of our own: the stack does all of it, and cleans up after a passing run.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

#include "installed.hpp"

using namespace std::chrono_literals;

class NginxProxy : public fixtures::SuiteServerTest<NginxProxy> {
 public:
  static std::vector<fixtures::ServerOptions> Options() {
    return {{.command = {BACKEND_SERVER, "--port", "{port}"},
             .ready = fixtures::OutputMatches("backend listening"),
             .name = "backend",
             .restart_after_crash = true},  // a crash fails its test; the next gets a new backend
            {.command = {examples::Installed("nginx"), "-p", "{dir}", "-c", "nginx.conf", "-e", "stderr"},
             .ready = fixtures::HttpResponds("/hello"),  // through nginx to the backend
             .name = "nginx",
             .needs = {"backend"},
             .files = {{.path = "nginx.conf", .from = NGINX_CONF_IN}}}};
  }
  // Skipped, not failed, where nginx is not installed.
  static void SetUpTestSuite() {
    if (!examples::Installed("nginx").empty()) SuiteServerTest::SetUpTestSuite();
  }
  void SetUp() override { EXAMPLES_SKIP_UNLESS_INSTALLED("nginx"); }
};

TEST_F(NginxProxy, PassesRequestsToTheBackend) {
  auto res = server("nginx").http().Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello from the backend");
  EXPECT_THAT(res->get_header_value("Server"), testing::StartsWith("nginx"));
}

TEST_F(NginxProxy, TheBackendProcessAnswers) {
  auto res = server("nginx").http().Get("/whoami");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "pid " + std::to_string(server("backend").pid()));
}

TEST_F(NginxProxy, BothLogTheRequest) {
  ASSERT_TRUE(server("nginx").http().Get("/hello?from=test"));
  auto logged = [](fixtures::Server& s, const char* pattern) {
    return s.log().WaitForLine(pattern, 10s).status == fixtures::WaitForLineResult::Status::kMatched;
  };
  EXPECT_TRUE(logged(server("backend"), "GET /hello -> 200"));
  EXPECT_TRUE(logged(server("nginx"), R"re("GET /hello\?from=test HTTP/1\.1" 200)re"));  // access log
}

// Crashes the backend on purpose: this test fails (a crash fails the test it happens in), and
// the backend is started again, on the same port, before the next test, so nginx, whose config
// still names that port, works again. Run by nginx_proxy_check.cpp, which asserts all that.
TEST_F(NginxProxy, DISABLED_BackendCrashes) {
  auto res = server("nginx").http().Get("/crash");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 502);  // nginx: the backend closed the connection without an answer
}

TEST_F(NginxProxy, WorksAfterABackendRestart) {
  auto res = server("nginx").http().Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "hello from the backend");
}
