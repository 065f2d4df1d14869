// Proves, by running nginx_proxy_test as a child, that a backend that crashes and is restarted
// (restart_after_crash) keeps its port, so nginx in front of it still works in the next test:
// the crash fails the test it happens in, the backend comes back on the same port, and the next
// test, through nginx, passes.
#include <gmock/gmock.h>

#include <regex>

#include "example_run.hpp"
#include "installed.hpp"

using testing::HasSubstr;

TEST(NginxProxyCheck, ACrashedBackendComesBackOnItsPortAndTheProxyWorksAgain) {
  EXAMPLES_SKIP_UNLESS_INSTALLED("nginx");
  auto run = examples::RunExample(NGINX_PROXY_TEST,
                                  "NginxProxy.DISABLED_BackendCrashes:NginxProxy.WorksAfterABackendRestart");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;  // one test failed

  std::string crash = examples::Block(run.out, "NginxProxy.DISABLED_BackendCrashes");
  EXPECT_THAT(crash, HasSubstr("server 'backend' killed by SIGABRT during this test")) << run.out;
  EXPECT_THAT(crash, HasSubstr("err| backend: /crash asked for, aborting")) << run.out;
  EXPECT_THAT(crash, HasSubstr("[  FAILED  ] NginxProxy.DISABLED_BackendCrashes")) << run.out;
  EXPECT_THAT(run.report, HasSubstr("server 'backend' killed by SIGABRT during this test"));

  // The restart, on the port nginx sent the crashing request to (its error log says which).
  std::smatch upstream, restarted;
  ASSERT_TRUE(std::regex_search(crash, upstream, std::regex(R"(upstream: "http://127\.0\.0\.1:(\d+)/crash")")))
      << "nginx's lines in the report do not name the backend's port:\n" << run.out;
  ASSERT_TRUE(std::regex_search(run.out, restarted,
                                std::regex(R"(server 'backend' restarted before NginxProxy\.WorksAfterABackendRestart .* on the same port \{port\}=(\d+))")))
      << run.out;
  std::string after = examples::Block(run.out, "NginxProxy.WorksAfterABackendRestart");
  EXPECT_EQ(restarted[1], upstream[1]);
  EXPECT_THAT(after, HasSubstr("[       OK ] NginxProxy.WorksAfterABackendRestart")) << run.out;
}
