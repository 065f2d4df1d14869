// The probes users expect of real servers: a command that succeeds, a file or pid file that
// appears, HTTP with any method, headers and TLS; and placeholders in every probe's strings.
#include "fixtures/readiness.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/error.hpp"
#include "fixtures/ports.hpp"
#include "fixtures/process.hpp"
#include "fixtures/server.hpp"
#include "fixtures/timeout.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kPatience = 120s;  // bounds a failure only

// An expander like the server's, for the probe alone: {port} and {name}; anything else in
// braces is unknown.
ProbeContext::Expander Placeholders(int port, std::string name = "n1") {
  return [port, name](std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
      auto close = text[i] == '{' ? text.find('}', i) : std::string_view::npos;
      if (close == std::string_view::npos) {
        out += text[i++];
        continue;
      }
      std::string_view word = text.substr(i + 1, close - i - 1);
      if (word == "port") out += std::to_string(port);
      else if (word == "name") out += name;
      else throw Error(ErrorKind::kBadInput, "unknown placeholder {" + std::string(word) + "}; known: {port}, {name}");
      i = close + 1;
    }
    return out;
  };
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

int CountLines(const OutputLog& log, const std::string& text) {
  int n = 0;
  for (const auto& line : log.Lines()) n += line.text.find(text) != std::string::npos;
  return n;
}

// A fresh directory of this test process.
std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("probes-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Written whole under another name, then renamed onto `path`, as daemons write pid files.
void WriteFile(const std::filesystem::path& path, const std::string& text) {
  auto temporary = path.string() + ".tmp";
  std::ofstream(temporary) << text;
  std::filesystem::rename(temporary, path);
}

// A child that answers `ask`: connection I gets "not yet I" up to `not_yet`, then "ok".
struct Answerer {
  explicit Answerer(int not_yet)
      : reserved(ReservePort()),
        child({.command = {FIXTURES_HELPER, "answer", std::to_string(reserved.port()), std::to_string(not_yet)}}) {
    child.WaitForLine("^listening$", kPatience);
  }
  ProbeContext Context(std::stop_token stop = {}) { return ProbeContext(child, ports, false, stop, Placeholders(reserved.port())); }

  PortReservation reserved;
  Process child;
  PortMap ports;
};

// Waits with `ready` on `server` until the server logs `line` (an event of the attempts),
// then cancels the wait: what the probe observed by then.
ProbeOutcome CancelledAfter(const Readiness& ready, Answerer& server, const std::string& line) {
  std::stop_source cancel;
  auto waiting = std::async(std::launch::async, [&] {
    return ready.probe()->Wait(server.Context(cancel.get_token()), Clock::now() + kPatience);
  });
  server.child.WaitForLine(line, kPatience);
  cancel.request_stop();
  EXPECT_EQ(waiting.wait_for(kPatience), std::future_status::ready);
  ProbeOutcome outcome = waiting.get();
  EXPECT_EQ(outcome.status, ProbeOutcome::Status::kCancelled) << outcome.observation;
  return outcome;
}

TEST(ProbeContext, ExpandsThroughTheServersExpander) {
  Process child({.command = {FIXTURES_HELPER, "print-ready", "up"}});
  PortMap ports;
  ProbeContext plain(child, ports, false);
  EXPECT_EQ(plain.Expand("{port} stays"), "{port} stays");
  ProbeContext expanding = plain.WithExpand(Placeholders(4242));
  EXPECT_EQ(expanding.Expand("-p {port}"), "-p 4242");
  EXPECT_THROW(expanding.Expand("{nope}"), Error);
  EXPECT_EQ(expanding.WithStopToken({}).Expand("{port}"), "4242");  // kept by the other copies
}

TEST(CommandSucceeds, RunsTheCommandUntilItExitsZero) {
  Answerer server(2);
  Readiness ready = CommandSucceeds({FIXTURES_HELPER, "ask", "{port}"});
  EXPECT_EQ(ready.probe()->Describe(), "command `" + std::string(FIXTURES_HELPER) + " ask {port}` exits 0");
  ProbeOutcome outcome = ready.probe()->Wait(server.Context(), Clock::now() + kPatience);
  ASSERT_EQ(outcome.status, ProbeOutcome::Status::kReady) << outcome.observation;
  EXPECT_THAT(outcome.observation, HasSubstr("ask " + std::to_string(server.reserved.port()) + "` exited with code 0: ok (3 attempts)"));
  server.child.WaitForLine("^connection 3$", kPatience);
  EXPECT_EQ(CountLines(server.child.log(), "connection "), 3);  // and no attempt after the success
}

TEST(CommandSucceeds, SaysWhatTheLastAttemptExitedWithAndWrote) {
  Answerer server(1000000);
  // Connection 2: the first attempt has ended.
  ProbeOutcome outcome = CancelledAfter(CommandSucceeds({FIXTURES_HELPER, "ask", "{port}"}), server, "^connection 2$");
  EXPECT_THAT(outcome.observation,
              ContainsRegex("^`[^`]*fixtures_helper ask " + std::to_string(server.reserved.port()) +
                            "` exited with code 1: not yet [0-9]+ \\([0-9]+ attempts\\); its log: "));
  // One log file is left, named after the server: the attempt the observation describes,
  // whether or not another one was running when the wait was cancelled.
  std::string said = outcome.observation.substr(outcome.observation.find(": not yet ") + 2);
  said = said.substr(0, said.find(" ("));
  auto file = std::filesystem::path(outcome.observation.substr(outcome.observation.find("; its log: ") + 11));
  EXPECT_THAT(file.filename().string(), StartsWith("fixtures_helper-probe-"));
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("out| " + said + "\n"));
  EXPECT_THAT(text, HasSubstr("exited with code 1"));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(file).replace_extension(".running.log")));
}

TEST(CommandSucceeds, AnAttemptPastItsTimeoutIsKilled) {
  Answerer server(-1);  // connections stay open, unanswered: `ask` waits for ever
  // Connection 2: the first attempt was killed.
  ProbeOutcome outcome = CancelledAfter(CommandSucceeds({FIXTURES_HELPER, "ask", "{port}"}, 50ms), server, "^connection 2$");
  EXPECT_THAT(outcome.observation, HasSubstr("` did not exit within " + DescribeTimeout(50ms) + " (killed)"));
}

TEST(CommandSucceeds, TheServersExitEndsTheWaitAndItsAttempt) {
  Server server({.command = {FIXTURES_HELPER, "exit-later", "300", "3", "fatal: no config"},
                 .ready = CommandSucceeds({FIXTURES_HELPER, "print-ready", "hanging"}, 600s),
                 .startup_timeout = 600s});
  auto begin = Clock::now();
  Error e = StartError(server);
  EXPECT_LT(Clock::now() - begin, 60s);  // not the attempt's 600 s
  EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady);
  // The command has no placeholder: said once.
  EXPECT_THAT(e.what(), HasSubstr("print-ready hanging` exits 0: was still running when the wait ended (killed): "
                                  "hanging (1 attempt)"));
}

TEST(CommandSucceeds, AProgramThatCannotRunFailsAtOnce) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"},
                 .ready = CommandSucceeds({"/nonexistent/probe-tool", "ping"}),
                 .startup_timeout = 600s});
  auto begin = Clock::now();
  Error e = StartError(server);
  EXPECT_LT(Clock::now() - begin, 60s);
  EXPECT_EQ(e.kind(), ErrorKind::kProbeFailed);
  EXPECT_THAT(e.what(), HasSubstr("waited for: command `/nonexistent/probe-tool ping` exits 0: cannot start "
                                  "`/nonexistent/probe-tool ping`"));
  EXPECT_THAT(e.what(), HasSubstr("(1 attempt)"));
}

// Every probe that takes a string expands it, and an unknown placeholder fails the wait at
// once with the expander's message.
TEST(Placeholders, UnknownOneFailsEachProbeAtOnce) {
  Process child({.command = {FIXTURES_HELPER, "print-ready", "up"}});
  PortMap ports;
  ports.Set("", 1);
  ProbeContext context(child, ports, false, {}, Placeholders(4242));
  for (const Readiness& ready : {UnixSocketAccepts("{nope}.sock"), FileExists("{nope}"), PidFileNamesRunningProcess("{nope}.pid"),
                                 CommandSucceeds({FIXTURES_HELPER, "{nope}"}), HttpResponds("/{nope}")}) {
    ProbeOutcome outcome = ready.probe()->Wait(context, Clock::now() + 600s);
    EXPECT_EQ(outcome.status, ProbeOutcome::Status::kFailed) << ready.probe()->Describe();
    EXPECT_EQ(outcome.observation, "unknown placeholder {nope}; known: {port}, {name}");
  }
}

TEST(Placeholders, UnixSocketPath) {
  auto dir = TempDir("unix");
  Process child({.command = {FIXTURES_HELPER, "unix-listen", (dir / "n1.sock").string()}});
  child.WaitForLine("^listening$", kPatience);
  PortMap ports;
  ProbeOutcome outcome = UnixSocketAccepts(dir.string() + "/{name}.sock")
                             .probe()
                             ->Wait(ProbeContext(child, ports, false, {}, Placeholders(0)), Clock::now() + kPatience);
  EXPECT_EQ(outcome.status, ProbeOutcome::Status::kReady) << outcome.observation;
}

TEST(FileExists, WakesWhenTheFileAppears) {
  auto dir = TempDir("exists");
  Process child({.command = {FIXTURES_HELPER, "print-ready", "up"}, .cwd = dir});
  PortMap ports;
  ProbeContext context(child, ports, false, {}, Placeholders(0));
  Readiness ready = FileExists("{name}.flag");  // relative: from the server's working directory
  EXPECT_EQ(ready.probe()->Describe(), "file {name}.flag exists");

  ProbeOutcome before = ready.probe()->Wait(context, Clock::now());
  EXPECT_EQ(before.status, ProbeOutcome::Status::kTimeout);
  EXPECT_THAT(before.observation, HasSubstr((dir / "n1.flag").string() + ": no such file or directory"));

  auto waiting = std::async(std::launch::async, [&] { return ready.probe()->Wait(context, Clock::now() + kPatience); });
  std::ofstream(dir / "n1.flag") << "";
  ASSERT_EQ(waiting.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(waiting.get().status, ProbeOutcome::Status::kReady);

  // In a directory that does not exist yet: retried until it does, then watched.
  Readiness nested = FileExists("data/ready");
  auto nested_waiting = std::async(std::launch::async, [&] { return nested.probe()->Wait(context, Clock::now() + kPatience); });
  std::filesystem::create_directories(dir / "data");
  std::ofstream(dir / "data" / "ready") << "";
  ASSERT_EQ(nested_waiting.wait_for(kPatience), std::future_status::ready);
  ProbeOutcome outcome = nested_waiting.get();
  EXPECT_EQ(outcome.status, ProbeOutcome::Status::kReady) << outcome.observation;
  EXPECT_THAT(outcome.observation, HasSubstr((dir / "data" / "ready").string() + " exists"));
}

TEST(FileExists, TheServersExitEndsTheWait) {
  auto dir = TempDir("exit");
  Server server({.command = {FIXTURES_HELPER, "exit-later", "300", "3", "fatal: no config"},
                 .ready = FileExists("never"),
                 .startup_timeout = 600s,
                 .cwd = dir});
  auto begin = Clock::now();
  Error e = StartError(server);
  EXPECT_LT(Clock::now() - begin, 60s);
  EXPECT_EQ(e.kind(), ErrorKind::kExitedBeforeReady);
  EXPECT_THAT(e.what(), HasSubstr("waited for: file never exists: " + (dir / "never").string() + ": no such file"));
}

TEST(PidFileNamesRunningProcess, WaitsForAPidThatRuns) {
  auto dir = TempDir("pid");
  Process child({.command = {FIXTURES_HELPER, "print-ready", "up"}, .cwd = dir});
  PortMap ports;
  ProbeContext context(child, ports, false);
  Readiness ready = PidFileNamesRunningProcess("app.pid");
  EXPECT_EQ(ready.probe()->Describe(), "pid file app.pid names a running process");
  auto now = [&] { return ready.probe()->Wait(context, Clock::now()); };

  EXPECT_THAT(now().observation, HasSubstr("app.pid: no such file or directory"));
  WriteFile(dir / "app.pid", "");
  EXPECT_THAT(now().observation, HasSubstr("app.pid: empty"));
  WriteFile(dir / "app.pid", "starting\n");
  EXPECT_THAT(now().observation, HasSubstr("app.pid: holds 'starting', not a pid"));
  int gone = 0;
  {
    Process exited({.command = {FIXTURES_HELPER, "exit", "0"}});
    exited.Wait();  // reaped
    gone = exited.pid();
  }
  WriteFile(dir / "app.pid", std::to_string(gone) + "\n");
  ProbeOutcome stale = now();
  EXPECT_EQ(stale.status, ProbeOutcome::Status::kTimeout);
  EXPECT_THAT(stale.observation, HasSubstr("app.pid: names pid " + std::to_string(gone) + ", which is not running"));

  // Renamed onto the stale file while the probe waits: it wakes and reads it again.
  auto waiting = std::async(std::launch::async, [&] { return ready.probe()->Wait(context, Clock::now() + kPatience); });
  WriteFile(dir / "app.pid", " " + std::to_string(child.pid()) + "\n");
  ASSERT_EQ(waiting.wait_for(kPatience), std::future_status::ready);
  ProbeOutcome outcome = waiting.get();
  EXPECT_EQ(outcome.status, ProbeOutcome::Status::kReady) << outcome.observation;
  EXPECT_THAT(outcome.observation, HasSubstr("names pid " + std::to_string(child.pid()) + " (`"));
  EXPECT_THAT(outcome.observation, HasSubstr("print-ready up`)"));
}

// Each method against a real server that echoes what it got: method, path, body, content type
// and a header, placeholders replaced.
TEST(HttpResponds, AnyMethodWithHeadersAndBody) {
  Process http({.command = {HTTP_HELPER, "0"}});
  auto listening = http.WaitForLine(R"(listening on port (\d+))", kPatience);
  PortMap ports;
  ports.Set("", std::stoi(listening.groups.at(1)));
  ProbeContext context(http, ports, false, {}, Placeholders(0));
  for (std::string method : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    const bool sends = method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH";
    std::string answered = "(not called)";
    Readiness ready = HttpResponds(HttpCheck{.path = "/echo/{name}",
                                    .method = method,
                                    .body = sends ? "payload of {name}" : "",
                                    .content_type = sends ? "text/x-probe" : "",
                                    .headers = {{"X-Probe", "yes {name}"}},
                                    .body_matches = [&](const std::string& body) {
                                      answered = body;
                                      return true;
                                    }});
    EXPECT_EQ(ready.probe()->Describe(), "HTTP " + method + " /echo/{name} on {port} answers 200-299 with a matching body");
    ProbeOutcome outcome = ready.probe()->Wait(context, Clock::now() + kPatience);
    ASSERT_EQ(outcome.status, ProbeOutcome::Status::kReady) << method << ": " << outcome.observation;
    std::string expected = method + " /echo/n1 body=" + (sends ? "payload of n1 type=text/x-probe" : " type=") + " x-probe=yes n1";
    EXPECT_EQ(answered, method == "HEAD" ? "" : expected) << method;
    http.WaitForLine("^" + method + " /echo/n1 -> 200", kPatience);
  }
  // A content type without a body: sent as it is, with an empty body.
  std::string answered;
  HttpCheck empty_json{.path = "/echo", .method = "POST", .content_type = "application/json",
                       .body_matches = [&](const std::string& body) {
                         answered = body;
                         return true;
                       }};
  ASSERT_EQ(HttpResponds(empty_json).probe()->Wait(context, Clock::now() + kPatience).status, ProbeOutcome::Status::kReady);
  EXPECT_EQ(answered, "POST /echo body= type=application/json x-probe=");
}

TEST(HttpResponds, Tls) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  Readiness ready = HttpResponds(HttpCheck{.path = "/health", .tls = true});
  EXPECT_EQ(ready.probe()->Describe(), "HTTPS GET /health on {port} answers 200-299");
  Server server({.command = {HTTP_HELPER, "{port}", "2", "--tls"}, .ready = ready, .startup_timeout = kPatience});
  server.Start();
  EXPECT_EQ(CountLines(server.log(), "GET /health -> 503"), 2);
  // Plain HTTP to the TLS port: never an answer.
  PortMap ports;
  ports.Set("", server.port());
  ProbeOutcome plain = HttpResponds("/health").probe()->Wait(ProbeContext(server.process(), ports, false), Clock::now());
  EXPECT_EQ(plain.status, ProbeOutcome::Status::kTimeout) << plain.observation;
#else
  EXPECT_THROW(HttpResponds(HttpCheck{.tls = true}), Error);
  GTEST_SKIP() << "cpp-httplib is built without OpenSSL (CPPHTTPLIB_OPENSSL_SUPPORT): no HTTPS";
#endif
}

}  // namespace
}  // namespace fixtures
