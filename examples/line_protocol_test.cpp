// A suite against a line-protocol TCP server of our own (a tiny key-value store). Each test
// talks to it through fixtures::SocketClient; the clients record what they send and receive
// in the server's log, so a failing test shows the conversation and the server's own lines
// in one timeline.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>
#include <fixtures/socket_client.hpp>

#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

fixtures::Server& kv = fixtures::AddServerEnvironment({
    .command = {LINE_PROTOCOL_SERVER, "--port", "0"},
    .ready = fixtures::OutputMatches(R"(kv listening on 127\.0\.0\.1:(?<port>\d+))"),
    .startup_timeout = 30s,
    .stop = {.signal = SIGTERM, .grace = 5s},
});

fixtures::SocketClient Connect() { return fixtures::ConnectTcp(kv.port(), 10s, &kv.log()); }

TEST(KeyValue, SetThenGet) {
  auto client = Connect();
  client.SendLine("SET color blue");
  EXPECT_EQ(client.ReadLine(), "OK");
  client.SendLine("GET color");
  EXPECT_EQ(client.ReadLine(), "VALUE blue");
}

TEST(KeyValue, MissingKeyIsNotFound) {
  auto client = Connect();
  client.SendLine("GET no-such-key");
  EXPECT_EQ(client.ReadLine(), "NOT_FOUND");
  client.SendLine("DEL no-such-key");
  EXPECT_EQ(client.ReadLine(), "NOT_FOUND");
}

TEST(KeyValue, ValuesWithSpacesAndCaptures) {
  auto client = Connect();
  client.SendLine("SET greeting hello there, world");
  client.SendLine("GET greeting");  // pipelined: both answers are on their way
  EXPECT_EQ(client.ReadLine(), "OK");
  auto value = client.Expect(R"(^VALUE (.*)$)");
  EXPECT_EQ(value[1], "hello there, world");
}

TEST(KeyValue, UnknownCommandIsAnError) {
  auto client = Connect();
  client.SendLine("FLY away");
  EXPECT_THAT(client.ReadLine(), testing::StartsWith("ERROR"));
}

TEST(KeyValue, ValuesAreSharedBetweenConnections) {
  auto writer = Connect();
  auto reader = Connect();
  writer.SendLine("SET shared 42");
  EXPECT_EQ(writer.ReadLine(), "OK");
  reader.SendLine("GET shared");
  EXPECT_EQ(reader.ReadLine(), "VALUE 42");
  writer.SendLine("DEL shared");
  EXPECT_EQ(writer.ReadLine(), "DELETED");
  reader.SendLine("GET shared");
  EXPECT_EQ(reader.ReadLine(), "NOT_FOUND");
}

TEST(KeyValue, QuitClosesTheConnection) {
  auto client = Connect();
  client.SendLine("QUIT");
  EXPECT_EQ(client.ReadLine(), "BYE");
  client.ExpectEof();
}

// Eight clients on eight threads at once, each with its own keys, then each reads the
// others' keys: the store's mutex keeps them all.
TEST(KeyValue, EightClientsAtOnce) {
  constexpr int kClients = 8;
  constexpr int kKeys = 100;
  std::vector<std::string> failures(kClients);
  auto run = [&](int id, auto body) {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kClients; ++t) {
      threads.emplace_back([&, t] {
        try {
          auto client = Connect();
          body(client, t);
        } catch (const std::exception& e) {
          failures[t] = "phase " + std::to_string(id) + ": " + e.what();
        }
      });
    }
  };
  run(1, [&](fixtures::SocketClient& client, int t) {
    for (int k = 0; k < kKeys; ++k) {
      client.SendLine("SET k" + std::to_string(t) + "-" + std::to_string(k) + " v" +
                       std::to_string(t * 1000 + k));
      if (client.ReadLine() != "OK") failures[t] = "SET not OK";
    }
  });
  run(2, [&](fixtures::SocketClient& client, int t) {
    int other = (t + 1) % kClients;
    for (int k = 0; k < kKeys; ++k) {
      client.SendLine("GET k" + std::to_string(other) + "-" + std::to_string(k));
      std::string expected = "VALUE v" + std::to_string(other * 1000 + k);
      if (client.ReadLine() != expected) failures[t] = "no " + expected;
    }
  });
  for (int t = 0; t < kClients; ++t) EXPECT_EQ(failures[t], "") << "client " << t;
}

TEST(KeyValue, StopsCleanlyOnSigterm) {
  auto client = Connect();  // an open connection does not keep it from stopping
  client.SendLine("SET before stop");
  EXPECT_EQ(client.ReadLine(), "OK");
  fixtures::ExitStatus status = kv.Stop();
  EXPECT_TRUE(status.success()) << status.Describe();
  client.ExpectEof();
  auto last = kv.log().Tail(1, fixtures::StreamFilter::kErr);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back().text, "kv: bye");
}
