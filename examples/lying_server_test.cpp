// Servers that lie: "ready" is printed before the port is bound. Waiting for the line alone
// hands the test a server that refuses connections; waiting for the line and then for an HTTP
// answer (AllOf, in order, one budget) makes the suite reliable.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::ServerOptions LyingServer(fixtures::Readiness ready) {
  return {.command = {LYING_SERVER, "--port", "{port}", "--bind-delay-ms", "1500"},
          .ready = std::move(ready),
          .startup_timeout = 30s};
}

TEST(LyingServer, TheReadyLineAloneIsNotEnough) {
  fixtures::Server server(LyingServer(fixtures::OutputMatches("^ready$")));
  server.Start();  // returns on the line, 1.5 s before the server binds
  auto res = server.http().Get("/health");
  ASSERT_FALSE(res) << "the server answered: it did not lie this time";
  EXPECT_EQ(res.error(), httplib::Error::Connection);
}

TEST(LyingServer, LineThenHttpIsReliable) {
  fixtures::Server server(LyingServer(fixtures::AllOf(fixtures::OutputMatches("^ready$"),
                                                      fixtures::HttpResponds("/health", 200))));
  server.Start();
  auto res = server.http().Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "ok");
  EXPECT_TRUE(server.Stop().success());
}
