// Servers that lie: "ready" is printed before the port is bound. Waiting for the line alone
// hands the test a server that refuses connections; waiting for the line and then for an HTTP
// answer (AllOf, in order, one budget) makes the suite reliable.
#include <signal.h>

#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::ServerOptions LyingServer(fixtures::Readiness ready, std::vector<std::string> bind_when) {
  std::vector<std::string> command = {LYING_SERVER, "--port", "{port}"};
  command.insert(command.end(), bind_when.begin(), bind_when.end());
  return {.command = std::move(command), .ready = std::move(ready), .startup_timeout = 30s};
}

TEST(LyingServer, TheReadyLineAloneIsNotEnough) {
  // This one binds only when the test sends it SIGUSR1, so the lie lasts as long as we like.
  fixtures::Server server(LyingServer(fixtures::OutputMatches("^ready$"), {"--bind-on-sigusr1"}));
  server.Start();  // returns on the line; nothing listens yet
  auto res = server.http().Get("/health");
  ASSERT_FALSE(res) << "the server answered before it was told to bind";
  EXPECT_EQ(res.error(), httplib::Error::Connection);

  // Told to bind, it tells so on stderr: from then on it answers.
  ASSERT_EQ(::kill(server.pid(), SIGUSR1), 0);
  server.process().WaitForLine("now listening", 30s);
  auto later = server.http().Get("/health");
  ASSERT_TRUE(later) << httplib::to_string(later.error());
  EXPECT_EQ(later->body, "ok");
}

TEST(LyingServer, LineThenHttpIsReliable) {
  // This one binds 1.5 s after the lie, on its own: the test passes however long that takes.
  fixtures::Server server(LyingServer(fixtures::AllOf(fixtures::OutputMatches("^ready$"),
                                                      fixtures::HttpResponds("/health", 200)),
                                      {"--bind-delay-ms", "1500"}));
  server.Start();
  auto res = server.http().Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "ok");
  EXPECT_TRUE(server.Stop().success());
}
