#include "fixtures/readiness.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <future>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/ports.hpp"
#include "fixtures/process.hpp"
#include "fixtures/server.hpp"
#include "fixtures/socket_client.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::ContainsRegex;

constexpr auto kPatience = 120s;  // bounds a failure only

std::vector<std::string> Helper(std::vector<std::string> args) {
  args.insert(args.begin(), FIXTURES_HELPER);
  return args;
}

Error StartError(Server& server) {
  try {
    server.Start();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "the server started";
  return Error(ErrorKind::kSystem, "");
}

// What a TCP or Unix socket probe says of a refused connection: strerror's text, in this
// process's locale (the HTTP probe says "connection refused" itself), lowercased.
std::string Refused() {
  std::string text = std::strerror(ECONNREFUSED);
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

int CountLines(const OutputLog& log, const std::string& text) {
  int n = 0;
  for (const auto& line : log.Lines()) n += line.text.find(text) != std::string::npos;
  return n;
}

TEST(Readiness, NthOccurrenceOnAChosenStream) {
  Server twice({.command = Helper({"print-twice", "tick"}),
                .ready = OutputMatches("tick", StreamFilter::kOut, 2),
                .startup_timeout = kPatience});
  twice.Start();
  EXPECT_EQ(twice.ready_groups().at(0), "tick");

  Server thrice({.command = Helper({"print-twice", "tick"}),
                 .ready = OutputMatches("tick", StreamFilter::kOut, 3),
                 .startup_timeout = 300ms});
  Error e = StartError(thrice);
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  EXPECT_THAT(e.what(), HasSubstr("waited for: the 3rd line matching /tick/ on stdout: not seen"));

  Server on_err({.command = Helper({"print-ready-err", "up"}),
                 .ready = OutputMatches("up", StreamFilter::kErr),
                 .startup_timeout = kPatience});
  on_err.Start();
  Server not_on_out({.command = Helper({"print-ready-err", "up"}),
                     .ready = OutputMatches("up", StreamFilter::kOut),
                     .startup_timeout = 300ms});
  EXPECT_THAT(StartError(not_on_out).what(), HasSubstr("line matching /up/ on stdout: not seen"));
}

// The probe alone, on a child that listens only when told: nothing can listen before the test
// writes "listen", whatever the scheduling, so a probe that said ready then is wrong.
TEST(Readiness, TcpAcceptsWaitsForTheListener) {
  PortReservation reserved = ReservePort();
  Process child({.command = Helper({"listen-when-told", std::to_string(reserved.port())}), .stdin_pipe = true});
  child.WaitForLine("^waiting$", kPatience);
  PortMap ports;
  ports.Set("", reserved.port());
  ProbeContext context(child, ports, false);
  Readiness ready = TcpAccepts();

  // Before the listener exists: one attempt (the deadline is already past when it ends), refused.
  ProbeOutcome before = ready.probe()->Wait(context, Clock::now());
  EXPECT_EQ(before.status, ProbeOutcome::Status::kTimeout) << before.observation;
  EXPECT_THAT(before.observation, HasSubstr("port " + std::to_string(reserved.port()) + ": " + Refused() + " (1 attempt)"));

  // Told to listen while the probe retries: it reports ready, and the listener exists.
  auto after = std::async(std::launch::async, [&] { return ready.probe()->Wait(context, Clock::now() + kPatience); });
  child.WriteStdin("listen\n", kPatience);
  ASSERT_EQ(after.wait_for(kPatience), std::future_status::ready);
  ProbeOutcome outcome = after.get();
  EXPECT_EQ(outcome.status, ProbeOutcome::Status::kReady) << outcome.observation;
  EXPECT_NO_THROW(child.WaitForLine("^listening$", kPatience)) << child.FormatTail();
  EXPECT_NO_THROW(ConnectTcp(reserved.port(), kPatience));  // and it still accepts

  // Through a server: a named port, and a port given by number.
  Server explicit_port({.command = Helper({"listen-later", "0", "{port:x}"}),
                        .ready = AllOf(OutputMatches("listening"), TcpAccepts("x")),
                        .startup_timeout = kPatience});
  explicit_port.Start();
  Server by_number({.command = {FIXTURES_HELPER, "print-ready", "up"},
                    .ready = TcpAccepts(explicit_port.port("x")),
                    .startup_timeout = kPatience});
  by_number.Start();
}

TEST(Readiness, UnixSocketAccepts) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-unix-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Server server({.command = Helper({"unix-listen", "server.sock"}),
                 .ready = UnixSocketAccepts("server.sock"),
                 .startup_timeout = kPatience,
                 .cwd = dir});
  server.Start();
  EXPECT_TRUE(std::filesystem::is_socket(dir / "server.sock"));
  server.Stop();
  std::filesystem::remove_all(dir);
}

TEST(Readiness, HttpRespondsRetriesUntilTheStatusIsRight) {
  Server server({.command = {HTTP_HELPER, "{port}", "3"},
                 .ready = HttpResponds("/health", 200),
                 .startup_timeout = kPatience});
  server.Start();
  server.process().WaitForLine("GET /health -> 200", kPatience);
  EXPECT_EQ(CountLines(server.log(), "GET /health -> 503"), 3);
}

TEST(Readiness, HttpRespondsChecksTheBody) {
  HttpCheck check;
  check.path = "/health";
  check.body_matches = [](const std::string& body) { return body == "healthy"; };
  Server server({.command = {HTTP_HELPER, "{port}", "2"}, .ready = HttpResponds(check), .startup_timeout = kPatience});
  server.Start();
  EXPECT_EQ(CountLines(server.log(), "GET /health -> 503"), 2);

  // A body that never matches: the probe, on a server already listening, gets 200 "healthy"
  // and goes on trying; once the server has logged such an answer, the test cancels the probe
  // (an event, not a clock) and reads why it was not ready.
  check.body_matches = [](const std::string& body) { return body == "never"; };
  check.attempt_timeout = kPatience;  // a slow answer is still an answer, never a timeout here
  Process http({.command = {HTTP_HELPER, "0"}});
  auto listening = http.WaitForLine(R"(listening on port (\d+))", kPatience);
  PortMap ports;
  ports.Set("", std::stoi(listening.groups.at(1)));
  Readiness never = HttpResponds(check);
  EXPECT_THAT(never.probe()->Describe(), HasSubstr("with a matching body"));
  std::stop_source cancel;
  auto outcome = std::async(std::launch::async, [&] {
    return never.probe()->Wait(ProbeContext(http, ports, false, cancel.get_token()), Clock::now() + kPatience);
  });
  http.WaitForLine("GET /health -> 200", kPatience);  // it answered "healthy" at least once
  cancel.request_stop();
  ASSERT_EQ(outcome.wait_for(kPatience), std::future_status::ready);
  ProbeOutcome result = outcome.get();
  EXPECT_EQ(result.status, ProbeOutcome::Status::kCancelled) << result.observation;
  EXPECT_THAT(result.observation, HasSubstr("status 200, body did not match (7 bytes)"));
}

TEST(Readiness, CustomCheck) {
  std::atomic<int> calls{0};
  Server server({.command = Helper({"print-ready", "up"}),
                 .ready = Check("third time lucky",
                                [&](const ProbeContext& context) {
                                  EXPECT_TRUE(context.process().running());
                                  return ++calls < 3 ? CheckResult::NotYet("call " + std::to_string(calls.load()))
                                                     : CheckResult::Ready();
                                }),
                 .startup_timeout = kPatience});
  server.Start();
  EXPECT_EQ(calls, 3);

  auto begin = Clock::now();
  Server failing({.command = Helper({"print-ready", "up"}),
                  .ready = Check("schema check", [](const ProbeContext&) {
                    return CheckResult::Failed("schema version 7, want 8");
                  }),
                  .startup_timeout = 600s});
  Error e = StartError(failing);
  EXPECT_LT(Clock::now() - begin, 60s);
  EXPECT_EQ(e.kind(), ErrorKind::kProbeFailed);
  EXPECT_THAT(e.what(), HasSubstr("failed its readiness check"));
  EXPECT_THAT(e.what(), HasSubstr("waited for: schema check: schema version 7, want 8 (1 attempt)"));

  Server throwing({.command = Helper({"print-ready", "up"}),
                   .ready = Check("throws", [](const ProbeContext&) -> CheckResult {
                     throw std::runtime_error("boom");
                   })});
  EXPECT_THAT(StartError(throwing).what(), HasSubstr("throws: threw: boom"));
}

TEST(Readiness, AllOfInOrderReadsThePortFromTheLineThenAsksHttp) {
  Server server({.command = {HTTP_HELPER, "0", "2"},
                 .ready = AllOf(OutputMatches(R"(listening on port (\d+))"), HttpResponds("/health")),
                 .startup_timeout = kPatience});
  server.Start();
  EXPECT_EQ(std::to_string(server.port()), server.ready_groups().at(1));
  EXPECT_EQ(CountLines(server.log(), "GET /health -> 503"), 2);
}

TEST(Readiness, AllOfTimeoutNamesEveryProbe) {
  Server server({.command = Helper({"print-ready", "{port}"}),
                 .ready = AllOf(OutputMatches("never printed"), HttpResponds("/health")),
                 .startup_timeout = 300ms});
  std::string what = StartError(server).what();
  EXPECT_THAT(what, HasSubstr("1. line matching /never printed/ on stdout or stderr: not seen"));
  EXPECT_THAT(what, HasSubstr("2. HTTP GET /health on {port} answers 200: not tried"));
}

TEST(Readiness, AnyOfTakesTheFirstAndCancelsTheRest) {
  Server server({.command = {HTTP_HELPER, "{port}"},
                 .ready = AnyOf(OutputMatches("never printed"), TcpAccepts()),
                 .startup_timeout = kPatience});
  auto begin = Clock::now();
  server.Start();
  EXPECT_LT(Clock::now() - begin, 60s);  // the output probe was cancelled, not waited out

  Server none({.command = Helper({"print-ready", "{port}"}),
               .ready = AnyOf(OutputMatches("never printed"), HttpResponds("/health")),
               .startup_timeout = 300ms});
  std::string what = StartError(none).what();
  EXPECT_THAT(what, HasSubstr("any of:"));
  EXPECT_THAT(what, HasSubstr("1. line matching /never printed/ on stdout or stderr: not seen"));
  EXPECT_THAT(what, ContainsRegex(R"(2\. HTTP GET /health on \{port\} answers 200: port [0-9]+: connection refused \([0-9]+ attempts\))"));
}

TEST(Readiness, TimeoutMessageCountsAttempts) {
  Server server({.command = Helper({"print-ready", "{port}"}),
                 .ready = HttpResponds("/health"),
                 .startup_timeout = 300ms});
  Error e = StartError(server);
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  EXPECT_THAT(e.what(), ContainsRegex(R"(waited for: HTTP GET /health on \{port\} answers 200: port [0-9]+: connection refused \([0-9]+ attempts\))"));
  EXPECT_THAT(e.what(), HasSubstr("FIXTURES_TIMEOUT_SCALE"));
}

TEST(Readiness, ExitWhileHttpProbeRetriesEndsTheWaitAtOnce) {
  Server server({.command = Helper({"exit-later", "200", "3", "fatal: cannot open /etc/app.toml"}),
                 .ready = HttpResponds("/health"),
                 .startup_timeout = 600s,
                 .env = {{"APP_PORT", "{port}"}}});
  auto begin = Clock::now();
  Error e = StartError(server);
  EXPECT_LT(Clock::now() - begin, 60s);  // a tenth of the budget, and in practice ~0.2 s
  EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady);
  std::string what = e.what();
  EXPECT_THAT(what, HasSubstr("exited with code 3 before it was ready"));
  EXPECT_THAT(what, HasSubstr("err| fatal: cannot open /etc/app.toml"));
  EXPECT_THAT(what, HasSubstr("connection refused"));
}

TEST(Readiness, NamedPortsInCommandAndFromTheLine) {
  Server server({.command = Helper({"print-ready", "main={port} admin={port:admin} again={port}"}),
                 .ready = OutputMatches(R"(main=(\d+) admin=(\d+) again=(\d+))"),
                 .startup_timeout = kPatience});
  server.Start();
  const auto& g = server.ready_groups();
  EXPECT_EQ(g.at(1), std::to_string(server.port()));
  EXPECT_EQ(g.at(2), std::to_string(server.port("admin")));
  EXPECT_EQ(g.at(3), g.at(1));
  EXPECT_NE(server.port(), server.port("admin"));
  EXPECT_THROW((void)server.port("other"), Error);

  Server reported({.command = Helper({"print-ready", "api on 4321, admin on 4567"}),
                   .ready = OutputMatches(R"(api on (?<port>\d+), admin on (?<port_admin>\d+))"),
                   .startup_timeout = kPatience});
  reported.Start();
  EXPECT_EQ(reported.port(), 4321);
  EXPECT_EQ(reported.port("admin"), 4567);
}

// Every probe factory rejects what it cannot check, as kBadInput, at once.
TEST(Readiness, BadInput) {
  auto kind_of = [](const std::function<void()>& make) {
    try {
      make();
    } catch (const Error& e) {
      return e.kind();
    }
    ADD_FAILURE() << "no Error thrown";
    return ErrorKind::kSystem;
  };
  EXPECT_EQ(kind_of([] { HttpResponds("health"); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.method = "BREW"}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.method = "get"}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.method = "GET", .body = "x"}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.method = "HEAD", .content_type = "text/plain"}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.method = "POST", .body = "x", .content_type = "a\r\nb: c"}); }),
            ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.headers = {{"Bad Name", "x"}}}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.headers = {{"", "x"}}}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.headers = {{"X-Ok", "a\nInjected: yes"}}}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { CommandSucceeds({}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { CommandSucceeds({""}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { CommandSucceeds({"true"}, 0ms); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { FileExists(""); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { PidFileNamesRunningProcess(""); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { HttpResponds(HttpCheck{.min_status = 300, .max_status = 200}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { TcpAccepts(0); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { TcpAccepts(65536); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { UnixSocketAccepts(""); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { AllOf(std::vector<Readiness>{}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { AnyOf(Readiness{}); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { Check("x", nullptr); }), ErrorKind::kBadInput);
  EXPECT_EQ(kind_of([] { OutputMatches("x", StreamFilter::kEither, 0); }), ErrorKind::kBadInput);
}

}  // namespace
}  // namespace fixtures
