#include "fixtures/server.hpp"

#include <unistd.h>

#include <algorithm>

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

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
  client.SendLine("echo over tcp");
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
  local.SendLine("echo over unix");
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
    EXPECT_EQ(e.kind(), ErrorKind::kWrongState);  // it runs: a port it does not have is no "not running"
    EXPECT_THAT(e.what(), HasSubstr("has no port"));
  }
}

// The run's log is created before its setup commands: a log that cannot be created stops the
// start before any of them runs.
TEST(Server, ALogThatCannotBeCreatedRunsNoSetupCommand) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-server-nolog-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "plain") << "a file, not a directory\n";
  ServerOptions options{.command = {FIXTURES_HELPER, "print-ready", "ready"},
                        .ready = OutputMatches("ready"),
                        .setup = {{"/bin/touch", (dir / "setup-ran").string()}}};
  options.log.file = dir / "plain" / "server.log";
  Error e = StartError(options);
  EXPECT_EQ(e.kind(), ErrorKind::kSystem);
  EXPECT_THAT(e.what(), HasSubstr("cannot create log file " + options.log.file.string()));
  EXPECT_FALSE(std::filesystem::exists(dir / "setup-ran")) << "a setup command ran";
  std::filesystem::remove_all(dir);
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
  ASSERT_TRUE(e.exit_status().has_value());
  EXPECT_TRUE(e.exit_status()->exited());
  EXPECT_EQ(e.exit_status()->code(), 3);
  EXPECT_TRUE(std::filesystem::exists(e.log_file())) << e.log_file();
  std::string what = e.what();
  EXPECT_THAT(what, HasSubstr("server 'early-exit' exited with code 3 before it was ready"));
  EXPECT_THAT(what, HasSubstr("full log: " + e.log_file().string()));
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
  ASSERT_TRUE(e.exit_status().has_value());  // how the stop after the timeout ended it
  EXPECT_TRUE(e.exit_status()->signaled());
  EXPECT_EQ(e.exit_status()->signal(), SIGTERM);
  EXPECT_TRUE(std::filesystem::exists(e.log_file())) << e.log_file();
  std::string what = e.what();
  EXPECT_THAT(what, HasSubstr("was not ready within " + DescribeTimeout(200ms)));
  EXPECT_THAT(what, HasSubstr("FIXTURES_TIMEOUT_SCALE"));  // named whether set or not
  EXPECT_THAT(what, HasSubstr("waited for: line matching /listening/ on stdout or stderr: not seen"));
  EXPECT_THAT(what, HasSubstr("command: " + std::string(FIXTURES_HELPER) + " print-ready 'booting, not ready'"));
  EXPECT_THAT(what, HasSubstr("then stopped: killed by SIGTERM"));
  EXPECT_THAT(what, HasSubstr("last 20 lines before the stop (full log: "));

  // The tail holds what the server printed before the stop. A helper may start after the
  // 200 ms are over on a loaded machine, so a first check waits for its line (an event, past
  // the budget if need be); the pattern is then looked for, and not seen, as above.
  Error tail = StartError({.command = {FIXTURES_HELPER, "print-ready", "booting, not ready"},
                           .ready = AllOf(Check("its first line",
                                                [](const ProbeContext& context) {
                                                  context.process().WaitForLine("^booting", 120s);
                                                  return CheckResult::Ready();
                                                }),
                                          OutputMatches("listening")),
                           .startup_timeout = 200ms,
                           .stop = {.signal = SIGTERM, .grace = 10s}});
  EXPECT_EQ(tail.kind(), ErrorKind::kTimeout);
  what = tail.what();
  EXPECT_THAT(what, HasSubstr("2. line matching /listening/ on stdout or stderr: not seen"));
  EXPECT_THAT(what, HasSubstr("then stopped: killed by SIGTERM"));
  EXPECT_THAT(what, HasSubstr("out| booting, not ready"));
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

// Calls the server's state does not allow are kWrongState, not kNotRunning (nothing says the
// server stopped) nor kBadInput (the arguments are fine).
TEST(Server, CallsInTheWrongStateSaySo) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"}, .ready = OutputMatches("up"), .name = "early"});
  for (auto& [call, f] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"Stop", [&] { server.Stop(); }},
           {"pid", [&] { (void)server.pid(); }},
           {"process", [&] { (void)server.process(); }},
           {"log", [&] { (void)server.log(); }},
           {"port", [&] { (void)server.port(); }},
           {"WaitForExit", [&] { (void)server.WaitForExit(0s); }}}) {
    try {
      f();
      ADD_FAILURE() << call << " before Start did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kWrongState) << call << ": " << e.what();
      EXPECT_THAT(e.what(), HasSubstr("server 'early'")) << call;
    }
  }
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(server.attached());
  EXPECT_FALSE(server.unexpected_exit().has_value());
  server.Start();
  try {
    server.Start();
    ADD_FAILURE() << "a second Start did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kWrongState);
    EXPECT_THAT(e.what(), HasSubstr("is already running (pid " + std::to_string(server.pid()) + ")"));
  }
  EXPECT_TRUE(server.running());
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

// A Server keeps its reserved ports for its lifetime: after Stop() and Start() the port, the
// base URL and a client made before all still point at the server.
TEST(Server, RestartKeepsItsReservedPorts) {
  Server server({.command = {HTTP_HELPER, "{port}"},
                 .ready = OutputMatches(R"(listening on port (\d+))"),
                 .startup_timeout = 60s});
  server.Start();
  const int port = server.port();
  const std::string url = server.base_url();
  auto client = server.http();
  auto first = client.Get("/hello");
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  client.stop();  // closes its kept-alive connection, which would slow the server's exit
  server.Stop();
  // Still ours between the runs: no other process (nor this one) can reserve it.
  EXPECT_FALSE(TryReservePort(port)) << "port " << port << " was released by the stop";
  server.Start();
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(server.base_url(), url);
  auto again = client.Get("/hello");  // the client made before the restart
  ASSERT_TRUE(again) << httplib::to_string(again.error());
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, "hello");
}

// Stop() returns the status; last_stop() says whether the stop caused it.
TEST(ServerStop, LastStopJudgesTheStatus) {
  auto asan = [](std::function<bool(const ExitStatus&)> accept = {}) {
    return ServerOptions{.command = {ASAN_SERVER, "{port}"},
                         .ready = OutputMatches("listening on port"),
                         .startup_timeout = 120s,
                         .accept_stop_status = std::move(accept)};
  };
  auto get = [](Server& server, const std::string& path) {
    auto client = server.http();
    return client.Get(path);
  };
  using Verdict = StopResult::Verdict;
  {
    Server server(asan());
    server.Start();
    EXPECT_FALSE(server.last_stop().has_value());
    ASSERT_TRUE(get(server, "/ok"));
    EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
    ASSERT_TRUE(server.last_stop().has_value());
    EXPECT_EQ(server.last_stop()->verdict, Verdict::kStopped);
    EXPECT_TRUE(server.last_stop()->expected());
    EXPECT_EQ(server.last_stop()->Describe(), "stopped: exited with code 0");
  }
  {
    Server server(asan());
    server.Start();
    ASSERT_TRUE(get(server, "/crash-on-stop"));
    EXPECT_EQ(server.Stop().Describe(), "killed by SIGSEGV");
    EXPECT_EQ(server.last_stop()->verdict, Verdict::kCrashedDuringStop);
    EXPECT_FALSE(server.last_stop()->expected());
    EXPECT_EQ(server.last_stop()->Describe("here"),
              "crashed before or during the stop (here): killed by SIGSEGV, a signal the stop did not send (it sent "
              "SIGTERM)");
  }
  {
    Server server(asan());
    server.Start();
    ASSERT_TRUE(get(server, "/exit-3-on-stop"));
    EXPECT_EQ(server.Stop().Describe(), "exited with code 3");
    EXPECT_EQ(server.last_stop()->verdict, Verdict::kStatusNotAccepted);
  }
  {
    Server server(asan([](const ExitStatus& status) { return status.exited() && status.code() == 3; }));
    server.Start();
    ASSERT_TRUE(get(server, "/exit-3-on-stop"));
    EXPECT_EQ(server.Stop().Describe(), "exited with code 3");
    EXPECT_EQ(server.last_stop()->verdict, Verdict::kStopped);
  }
  {
    Server server(asan());
    server.Start();
    EXPECT_FALSE(get(server, "/segv"));
    ASSERT_TRUE(server.WaitForExit(120s).has_value());
    EXPECT_EQ(server.Stop().Describe(), "killed by SIGSEGV");
    EXPECT_EQ(server.last_stop()->verdict, Verdict::kExitedBeforeStop);
    EXPECT_EQ(server.last_stop()->Describe(), "crashed before the stop: killed by SIGSEGV");
    server.Start();  // a new run has no stop yet
    EXPECT_FALSE(server.last_stop().has_value());
  }
  {
    // SIGKILL is the stop's own signal once it escalated to it.
    Server server({.command = {FIXTURES_HELPER, "ignore-term", "up"},
                   .ready = OutputMatches("up"),
                   .startup_timeout = 60s,
                   .stop = {.signal = SIGTERM, .grace = 100ms}});
    server.Start();
    EXPECT_EQ(server.Stop().Describe(), "killed by SIGKILL");
    EXPECT_EQ(server.last_stop()->verdict, Verdict::kStopped);
    EXPECT_EQ(server.last_stop()->signals_sent, "SIGTERM, SIGKILL");
  }
}

// The log's lines of one stream, one per line.
std::string LinesOf(const OutputLog& log, Stream stream) {
  std::string text;
  for (const auto& line : log.Lines()) {
    if (line.stream == stream) text += line.text + "\n";
  }
  return text;
}

TEST(ServerStop, StepsDescribeThemselves) {
  EXPECT_EQ(StopStep::Signal(SIGTERM, 1s).Describe(), "SIGTERM");
  EXPECT_EQ(StopStep::Stdin("quit\n", 1s).Describe(), "stdin \"quit\\x0A\"");
  EXPECT_EQ(StopStep::Stdin("", 1s).Describe(), "close stdin");
  EXPECT_EQ(HttpStop("POST", "/quitquitquit", 1s).Describe(), "HTTP POST /quitquitquit");
  EXPECT_EQ(HttpStop("", "/quit", 1s, "admin").Describe(), "HTTP POST /quit on {port:admin}");
}

TEST(ServerStop, StdinStepStopsAServerThatIgnoresSigterm) {
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "up"},
                 .ready = OutputMatches("up"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {StopStep::Stdin("quit\n", 60s)}}});
  server.Start();
  EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
  std::string notes = LinesOf(server.log(), Stream::kSystem);
  EXPECT_THAT(notes, HasSubstr("writing \"quit\\x0A\" to stdin to stop it\n"));
  EXPECT_THAT(notes, Not(HasSubstr("sent SIG")));
  EXPECT_THAT(LinesOf(server.log(), Stream::kClient), HasSubstr("stdin> quit\\x0A"));
  EXPECT_THAT(LinesOf(server.log(), Stream::kErr), HasSubstr("quit received"));
}

TEST(ServerStop, EmptyStdinStepClosesStdin) {
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "up"},
                 .ready = OutputMatches("up"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {StopStep::Stdin("", 60s)}}});
  server.Start();
  EXPECT_EQ(server.Stop().Describe(), "exited with code 4");  // the helper's code for end of input
  EXPECT_THAT(LinesOf(server.log(), Stream::kSystem), HasSubstr("closing stdin to stop it"));
  EXPECT_THAT(LinesOf(server.log(), Stream::kErr), HasSubstr("end of input"));
}

TEST(ServerStop, HttpStepStopsTheServer) {
  Server server({.command = {HTTP_HELPER, "{port}"},
                 .ready = OutputMatches("listening on port"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {HttpStop("POST", "/quit", 60s)}}});
  server.Start();
  const std::string port = std::to_string(server.port());
  EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
  std::string notes = LinesOf(server.log(), Stream::kSystem);
  EXPECT_THAT(notes, HasSubstr("sending HTTP POST /quit to 127.0.0.1:" + port + " to stop it\n"));
  EXPECT_THAT(notes, Not(HasSubstr("sent SIG")));
  EXPECT_THAT(LinesOf(server.log(), Stream::kClient), HasSubstr("http POST /quit -> 200 (3 bytes"));
  EXPECT_THAT(LinesOf(server.log(), Stream::kErr), HasSubstr("quit requested"));
}

TEST(ServerStop, EscalatesToTheNextStepAfterTheGrace) {
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "up"},
                 .ready = OutputMatches("up"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {StopStep::Signal(SIGTERM, 200ms), StopStep::Stdin("quit\n", 60s)}}});
  server.Start();
  const std::string group = std::to_string(server.process().pid());
  EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
  std::string notes = LinesOf(server.log(), Stream::kSystem);
  EXPECT_THAT(notes, HasSubstr("sent SIGTERM to process group " + group + " to stop it (step 1 of 2)\n"));
  EXPECT_THAT(notes, HasSubstr("writing \"quit\\x0A\" to stdin to stop it (step 2 of 2)\n"));
  EXPECT_LT(notes.find("step 1 of 2"), notes.find("step 2 of 2"));
  EXPECT_THAT(notes, Not(HasSubstr("SIGKILL")));
}

TEST(ServerStop, SequenceThatNeverWorksEndsWithSigkill) {
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "up"},
                 .ready = OutputMatches("up"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {StopStep::Signal(SIGTERM, 100ms), StopStep::Stdin("please\n", 100ms)}}});
  server.Start();
  EXPECT_EQ(server.Stop().Describe(), "killed by SIGKILL");
  std::string notes = LinesOf(server.log(), Stream::kSystem);
  EXPECT_THAT(notes, HasSubstr("(step 1 of 2)"));
  EXPECT_THAT(notes, HasSubstr("(step 2 of 2)"));
  EXPECT_THAT(notes, HasSubstr("sent SIGKILL to process group " + std::to_string(server.process().pid()) +
                               ", still running after 2 stop steps (the last one's grace period: 100ms)\n"));
}

TEST(ServerStop, FailedStepIsLoggedAndTheNextFollowsAtOnce) {
  // The helper prints its reserved port but listens on nothing: the HTTP step is refused.
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "{port}"},
                 .ready = OutputMatches("^[0-9]+$"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {HttpStop("POST", "/quit", 600s), StopStep::Stdin("quit\n", 60s)}}});
  server.Start();
  const std::string port = std::to_string(server.port());
  auto begin = Clock::now();
  EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
  EXPECT_LT(Clock::now() - begin, 300s);  // far below the failed step's 600 s grace: no wait at all
  std::string notes = LinesOf(server.log(), Stream::kSystem);
  EXPECT_THAT(notes, HasSubstr("cannot stop it by HTTP POST /quit (step 1 of 2): no connection to 127.0.0.1:" +
                               port + " (Connection); going on at once\n"));
  EXPECT_THAT(notes, HasSubstr("(step 2 of 2)"));
  EXPECT_THAT(LinesOf(server.log(), Stream::kErr), HasSubstr("quit received"));
}

TEST(ServerStop, UnknownPortAndErrorAnswerFailTheirSteps) {
  Server server({.command = {HTTP_HELPER, "{port}"},
                 .ready = OutputMatches("listening on port"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {HttpStop("POST", "/quit", 600s, "admin"),
                                    HttpStop("POST", "/no-such-route", 600s),
                                    HttpStop("POST", "/quit", 60s)}}});
  server.Start();
  auto begin = Clock::now();
  EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
  EXPECT_LT(Clock::now() - begin, 300s);
  std::string notes = LinesOf(server.log(), Stream::kSystem);
  EXPECT_THAT(notes, HasSubstr("cannot stop it by HTTP POST /quit on {port:admin} (step 1 of 3): "
                               "no port {port:admin} known; going on at once\n"));
  EXPECT_THAT(notes, HasSubstr("cannot stop it by HTTP POST /no-such-route (step 2 of 3): it answered 404; "
                               "going on at once\n"));
  EXPECT_THAT(notes, HasSubstr("(step 3 of 3)"));
  EXPECT_THAT(LinesOf(server.log(), Stream::kErr), HasSubstr("quit requested"));
}

// The point of stop sequences: coverage data (gcov's .gcda files) and sanitizer reports are
// written on the exit path, which a signal's default action skips.
TEST(ServerStop, CleanStopKeepsWhatTheServerWritesAtExit) {
  Server killed({.command = {FIXTURES_HELPER, "flush-at-exit", "up"},
                 .ready = OutputMatches("up"),
                 .startup_timeout = 60s,
                 .stop = {.signal = SIGTERM, .grace = 60s}});
  killed.Start();
  EXPECT_EQ(killed.Stop().Describe(), "killed by SIGTERM");
  EXPECT_THAT(LinesOf(killed.log(), Stream::kErr), Not(HasSubstr("flushed at exit")));

  Server clean({.command = {FIXTURES_HELPER, "flush-at-exit", "up"},
                .ready = OutputMatches("up"),
                .startup_timeout = 60s,
                .stop = {.steps = {StopStep::Stdin("quit\n", 60s), StopStep::Signal(SIGTERM, 60s)}}});
  clean.Start();
  EXPECT_EQ(clean.Stop().Describe(), "exited with code 0");
  EXPECT_THAT(LinesOf(clean.log(), Stream::kErr), HasSubstr("flushed at exit"));
}

TEST(ServerStop, StopAfterTheExitReturnsTheStatus) {
  Server server({.command = {FIXTURES_HELPER, "stdin-quit", "up"},
                 .ready = OutputMatches("up"),
                 .startup_timeout = 60s,
                 .stop = {.steps = {StopStep::Stdin("quit\n", 60s)}}});
  server.Start();
  server.process().WriteStdin("quit\n", 60s);
  EXPECT_EQ(server.process().Wait().Describe(), "exited with code 0");
  EXPECT_EQ(server.Stop().Describe(), "exited with code 0");
  EXPECT_THAT(LinesOf(server.log(), Stream::kSystem), Not(HasSubstr("to stop it")));
}

}  // namespace
}  // namespace fixtures
