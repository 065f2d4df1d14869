#include "fixtures/server.hpp"

#include <unistd.h>

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

Error StartError(ServerOptions options) {
  Server server(std::move(options));
  try {
    server.Start();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "the server started";
  return Error(ErrorKind::kSystem, "");
}

TEST(Server, PortPlaceholderAndHttp) {
  Server server({.command = {HTTP_HELPER, "{port}"},
                 .ready = OutputMatches(R"(listening on port (\d+))"),
                 .startup_timeout = 60s});
  server.Start();
  EXPECT_TRUE(server.running());
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.ready_groups().at(1), std::to_string(server.port()));
  {
    auto client = server.http();  // destroyed before the stop: it holds a kept-alive connection
    auto res = client.Get("/hello");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "hello");
  }
  // The request shows in the server's log; wait for the line, do not sleep.
  server.process().WaitForLine("GET /hello -> 200", 60s);
  auto lines = server.log().Lines();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const Line& l) {
    return l.stream == Stream::kClient && l.text.starts_with("http GET /hello -> 200 (5 bytes, sent 0 bytes, ");
  }));
  auto status = server.Stop();
  EXPECT_TRUE(status.success()) << status.Describe();
  EXPECT_FALSE(server.running());
}

TEST(Server, HttpClientRecordsFailuresAndTimingToo) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "{port}"}, .ready = OutputMatches("^[0-9]+$")});
  server.Start();  // prints its port but listens on nothing
  auto res = server.http().Get("/nobody-listens");
  ASSERT_FALSE(res);
  auto lines = server.log().Lines();
  std::vector<std::string> client;
  for (const auto& l : lines) {
    if (l.stream == Stream::kClient) client.push_back(l.text);
  }
  ASSERT_EQ(client.size(), 2u);
  EXPECT_EQ(client[0], "http GET /nobody-listens");
  EXPECT_THAT(client[1], ::testing::MatchesRegex(R"(http GET /nobody-listens -> error: Connection \([0-9.]+ ms\))"));
}

TEST(Server, Https) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  Server server({.command = {HTTP_HELPER, "{port}", "0", "--tls"},
                 .ready = OutputMatches("listening on port"),
                 .startup_timeout = 60s});
  server.Start();
  auto res = server.https().Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "hello");
  auto plain = server.http().Get("/hello");  // plain HTTP to a TLS port gets no answer
  EXPECT_FALSE(plain && plain->status == 200);
#else
  GTEST_SKIP() << "cpp-httplib is built without OpenSSL (CPPHTTPLIB_OPENSSL_SUPPORT): no HTTPS";
#endif
}

TEST(Server, TcpAndUnixClientsRecordIntoTheServerLog) {
  Server server({.command = {LINE_SERVER, "{port}"}, .ready = OutputMatches("listening on port")});
  server.Start();
  auto client = server.tcp();
  client.WriteLine("echo over tcp");
  EXPECT_EQ(client.ReadLine(60s), "over tcp");
  bool recorded = false;
  for (const auto& l : server.log().Lines()) {
    recorded |= l.stream == Stream::kClient && l.text.find("> echo over tcp") != std::string::npos;
  }
  EXPECT_TRUE(recorded);

  auto dir = std::filesystem::temp_directory_path() / ("fixtures-unix-client-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Server on_unix({.command = {LINE_SERVER, "unix", "kv.sock"},
                  .ready = UnixSocketAccepts("kv.sock"),
                  .startup_timeout = 60s,
                  .cwd = dir});
  on_unix.Start();
  auto local = on_unix.unix_socket("kv.sock");
  local.WriteLine("echo over unix");
  EXPECT_EQ(local.ReadLine(60s), "over unix");
  local.Close();
  on_unix.Stop();
  std::filesystem::remove_all(dir);
}

TEST(Server, HttpClientKeepsItsConnectionAlive) {
  Server server({.command = {HTTP_HELPER, "{port}"}, .ready = OutputMatches("listening on port")});
  server.Start();
  auto from = server.log().next_seq();
  auto client = server.http();
  for (const char* path : {"/one", "/two"}) {
    auto res = client.Get(path);
    ASSERT_TRUE(res) << httplib::to_string(res.error());
  }
  auto one = server.process().WaitForLine(R"(GET /one -> 200 \(client port (\d+)\))", 60s, from);
  auto two = server.process().WaitForLine(R"(GET /two -> 200 \(client port (\d+)\))", 60s, from);
  EXPECT_EQ(one.groups[1], two.groups[1]) << "a new connection for the second request";
}

TEST(Server, PortReadFromTheReadyLine) {
  Server server({.command = {HTTP_HELPER, "0"},
                 .ready = OutputMatches(R"(listening on port (?<port>\d+))"),
                 .startup_timeout = 60s});
  server.Start();
  EXPECT_EQ(std::to_string(server.port()), server.ready_groups().at(1));
  auto res = server.http().Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "hello");
}

TEST(Server, PortInEnvironment) {
  Server server({.command = {FIXTURES_HELPER, "env", "MY_PORT"},
                 .ready = OutputMatches(R"(^(\d+)$)"),
                 .startup_timeout = 60s,
                 .env = {{"MY_PORT", "{port}"}}});
  server.Start();
  EXPECT_EQ(server.ready_groups().at(1), std::to_string(server.port()));
}

TEST(Server, NoPortIsAClearError) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"}, .ready = OutputMatches("up")});
  server.Start();
  try {
    (void)server.port();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotRunning);
    EXPECT_THAT(e.what(), HasSubstr("has no port"));
  }
}

TEST(Server, ExecutableNotFoundIsReportedAtOnce) {
  auto begin = Clock::now();
  Error e = StartError({.command = {"/no/such/server", "--port", "{port}"},
                        .ready = OutputMatches("ready"),
                        .startup_timeout = 600s});
  EXPECT_LT(Clock::now() - begin, 60s);  // far below the 600 s budget: no waiting at all
  EXPECT_EQ(e.kind(), ErrorKind::kSpawnFailed);
  EXPECT_THAT(e.what(), HasSubstr("cannot start `/no/such/server --port "));
  EXPECT_THAT(e.what(), HasSubstr("not found"));
}

TEST(Server, ExitBeforeReadyIsReportedAtOnce) {
  std::vector<std::string> command = {FIXTURES_HELPER, "exit", "3"};
  for (int i = 1; i <= 25; ++i) command.push_back("stderr line " + std::to_string(i));
  auto begin = Clock::now();
  Error e = StartError({.command = command,
                        .ready = OutputMatches(R"(listening on (\d+))"),
                        .startup_timeout = 600s,
                        .name = "early-exit"});
  EXPECT_LT(Clock::now() - begin, 60s);
  EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady);
  std::string what = e.what();
  EXPECT_THAT(what, HasSubstr("server 'early-exit' exited with code 3 before it was ready"));
  EXPECT_THAT(what, HasSubstr("command: " + std::string(FIXTURES_HELPER) + " exit 3 'stderr line 1'"));
  EXPECT_THAT(what, HasSubstr("waited for: line matching /listening on (\\d+)/ on stdout or stderr"));
  EXPECT_THAT(what, HasSubstr("startup timeout: " + DescribeTimeout(600s)));
  EXPECT_THAT(what, HasSubstr("last 20 lines"));
  EXPECT_THAT(what, HasSubstr("err| stderr line 25"));
  EXPECT_THAT(what, HasSubstr("err| stderr line 7"));
  EXPECT_THAT(what, ::testing::Not(HasSubstr("stderr line 5\n")));  // only the tail
  EXPECT_THAT(what, HasSubstr("full log: "));
}

TEST(Server, ReadinessTimeoutNamesPatternTimeoutAndTail) {
  Error e = StartError({.command = {FIXTURES_HELPER, "print-ready", "booting, not ready"},
                        .ready = OutputMatches("listening"),
                        .startup_timeout = 200ms,
                        .stop = {.signal = SIGTERM, .grace = 10s}});
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  std::string what = e.what();
  EXPECT_THAT(what, HasSubstr("was not ready within " + DescribeTimeout(200ms)));
  EXPECT_THAT(what, HasSubstr("FIXTURES_TIMEOUT_SCALE"));  // named whether set or not
  EXPECT_THAT(what, HasSubstr("waited for: line matching /listening/ on stdout or stderr: not seen"));
  EXPECT_THAT(what, HasSubstr("command: " + std::string(FIXTURES_HELPER) + " print-ready 'booting, not ready'"));
  EXPECT_THAT(what, HasSubstr("out| booting, not ready"));
  EXPECT_THAT(what, HasSubstr("then stopped: killed by SIGTERM"));
}

TEST(Server, BadInput) {
  try {
    Server server(ServerOptions{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  }
  EXPECT_THROW(OutputMatches("(unclosed"), Error);
  EXPECT_THROW(OutputMatches("x", StreamFilter::kEither, 0), Error);
  Server never({.command = {"x"}});
  EXPECT_THROW(never.Stop(), Error);
  EXPECT_THROW(never.http(), Error);
}

TEST(Server, LogFileNameIsSafeAndPerRun) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"},
                 .ready = OutputMatches("up"),
                 .name = "../my server/1"});
  server.Start();
  auto first = server.log().file();
  EXPECT_EQ(first.parent_path(), DefaultLogDirectory());
  EXPECT_EQ(first.filename().string(), ".._my_server_1-" + std::to_string(::getpid()) + "-1.log");
  server.Stop();
  server.Start();
  EXPECT_EQ(server.log().file().filename().string(), ".._my_server_1-" + std::to_string(::getpid()) + "-2.log");
  EXPECT_TRUE(std::filesystem::exists(first));
}

TEST(Server, StartTwiceIsAnErrorAndRestartWorks) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"}, .ready = OutputMatches("up")});
  server.Start();
  EXPECT_THROW(server.Start(), Error);
  server.Stop();
  server.Start();
  EXPECT_TRUE(server.running());
}

}  // namespace
}  // namespace fixtures
