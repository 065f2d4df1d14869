// Redis, as Debian installs it: a server per suite in its own run directory, ready when
// `redis-cli ping` answers, spoken to in RESP (CRLF line endings) by socket clients, eight of
// them at once on eight threads.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>
#include <fixtures/socket_client.hpp>

#include <string>
#include <thread>
#include <vector>

#include "installed.hpp"

using namespace std::chrono_literals;

class Redis : public fixtures::SuiteServerTest<Redis> {
 public:
  static std::vector<fixtures::ServerOptions> Options() {
    return {{
        // In the foreground, on our port, everything it writes in {dir}; no snapshot at exit.
        .command = {"redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--dir", "{dir}",
                    "--save", "", "--appendonly", "no"},
        .ready = fixtures::CommandSucceeds({"redis-cli", "-p", "{port}", "ping"}),
        .name = "redis",
    }};
  }
  // Skipped, not failed, where redis is not installed.
  static void SetUpTestSuite() {
    if (!examples::Installed("redis-server").empty()) SuiteServerTest::SetUpTestSuite();
  }
  void SetUp() override { EXAMPLES_SKIP_UNLESS_INSTALLED("redis-server"); }

  static fixtures::SocketClient Connect() {
    fixtures::SocketClient client = server().tcp();
    client.set_line_ending("\r\n");  // ReadLine drops the "\r" of the replies
    return client;
  }
};

TEST_F(Redis, AnswersPing) {
  auto redis = Connect();
  redis.SendLine("PING");
  EXPECT_EQ(redis.ReadLine(), "+PONG");
}

TEST_F(Redis, SetThenGetABulkString) {
  auto redis = Connect();
  // A command as an array of bulk strings, so the value may hold spaces.
  redis.Send("*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$11\r\nhello there\r\n");
  EXPECT_EQ(redis.ReadLine(), "+OK");
  redis.SendLine("GET greeting");
  EXPECT_EQ(redis.ReadLine(), "$11");  // the length, then the bytes
  EXPECT_EQ(redis.ReadLine(), "hello there");
  redis.SendLine("GET no-such-key");
  EXPECT_EQ(redis.ReadLine(), "$-1");  // nil
}

TEST_F(Redis, UnknownCommandIsAnError) {
  auto redis = Connect();
  redis.SendLine("FLY away");
  EXPECT_THAT(redis.ReadLine(), testing::StartsWith("-ERR unknown command"));
}

// Eight clients on eight threads, each adding 100 to one counter: no increment is lost.
TEST_F(Redis, EightClientsIncrementOneCounter) {
  constexpr int kClients = 8, kIncrements = 100;
  std::vector<std::string> failures(kClients);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kClients; ++t) {
      threads.emplace_back([&, t] {
        try {
          auto redis = Connect();
          for (int i = 0; i < kIncrements; ++i) {
            redis.SendLine("INCR hits");
            std::string reply = redis.ReadLine();
            if (!reply.starts_with(":")) failures[t] = "INCR answered " + reply;
          }
        } catch (const std::exception& e) {
          failures[t] = e.what();
        }
      });
    }
  }
  for (int t = 0; t < kClients; ++t) EXPECT_EQ(failures[t], "") << "client " << t;
  auto redis = Connect();
  redis.SendLine("GET hits");
  EXPECT_EQ(redis.ReadLine(), "$3");
  EXPECT_EQ(redis.ReadLine(), std::to_string(kClients * kIncrements));
}
