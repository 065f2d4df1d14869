// Stacks: placeholders, the run directory, files, setup commands, `needs` and `Stack`.
#include "fixtures/stack.hpp"

#include <csignal>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "child_env.hpp"
#include "placeholders.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Runs `f`, which must throw `Error`; returns it.
template <typename F>
Error ErrorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::kSystem, "");
}

// A pattern matching exactly `text` as a whole line.
Pattern Exactly(const std::string& text) {
  std::string expression = "^";
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) expression += '\\';
    expression += c;
  }
  return Pattern(expression + "$");
}

ServerOptions ShowFile(std::string name, std::string path) {
  return {.command = {FIXTURES_HELPER, "show-file", std::move(path)},
          .ready = OutputMatches("^shown$"),
          .startup_timeout = 30s,
          .name = std::move(name)};
}

ServerOptions Http(std::string name) {
  return {.command = {HTTP_HELPER, "{port}"}, .ready = OutputMatches("listening on port"), .name = std::move(name)};
}

TEST(Placeholders, OneSyntaxWithLiteralBraces) {
  auto value = [](const detail::Placeholder& p) { return "<" + p.server + "|" + p.what + "|" + p.port_name + ">"; };
  EXPECT_EQ(detail::ExpandPlaceholders("listen {port}; server { x }", value), "listen <|port|>; server { x }");
  EXPECT_EQ(detail::ExpandPlaceholders("{db.port:admin} {db.dir} {dir}", value), "<db|port|admin> <db|dir|> <|dir|>");
  EXPECT_EQ(detail::ExpandPlaceholders("{{port} {\"json\": 1} {} {", value), "{port} {\"json\": 1} {} {");
  EXPECT_EQ(detail::UnknownPlaceholder("{port} {dir} {db.port}", {"db"}), "");
  std::string why = detail::UnknownPlaceholder("a {HOME} b", {"db"});
  EXPECT_THAT(why, HasSubstr("unknown placeholder {HOME}"));
  EXPECT_THAT(why, HasSubstr("{port}, {port:NAME}, {dir}, {db.port}, {db.port:NAME}, {db.dir}"));
  EXPECT_THAT(why, HasSubstr("{{"));
  EXPECT_THAT(detail::UnknownPlaceholder("{web.port}", {"db"}), HasSubstr("not in `needs`"));
}

TEST(Stack, UnknownPlaceholderIsRefusedNamingItAndTheKnownOnes) {
  Error e = ErrorOf([] { Server server({.command = {FIXTURES_HELPER, "env", "X"}, .env = {{"X", "${HOME}"}}}); });
  EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  EXPECT_THAT(e.what(), HasSubstr("ServerOptions::env[0] value"));
  EXPECT_THAT(e.what(), HasSubstr("unknown placeholder {HOME}"));
  EXPECT_THAT(e.what(), HasSubstr("known: {port}, {port:NAME}, {dir}"));
  Error f = ErrorOf([] {
    Server server({.command = {FIXTURES_HELPER, "--to", "{db.port}"}, .files = {{.path = "a", .text = "{web.dir}"}}});
  });
  EXPECT_THAT(f.what(), HasSubstr("command[2]"));
  EXPECT_THAT(f.what(), HasSubstr("which is not in `needs`"));
}

TEST(Stack, PortsAndDirectoryAreKnownBeforeTheStart) {
  Server server(ShowFile("early", "{dir}/conf"));
  EXPECT_THAT(ErrorOf([&] { server.port(); }).what(), HasSubstr("not reserved yet"));
  server.Reserve();
  // No {port} in its options: only the directory.
  Server http(Http("early-http"));
  http.Reserve();
  const int port = http.port();
  EXPECT_GT(port, 0);
  EXPECT_TRUE(std::filesystem::is_directory(server.dir()));
  EXPECT_EQ(server.Expand("{dir}/x"), server.dir().string() + "/x");
  http.Start();
  EXPECT_EQ(http.port(), port);
  EXPECT_TRUE(http.http().Get("/health"));
}

TEST(Stack, FilesAreWrittenFromTextAndTemplatesWithPlaceholders) {
  const auto template_path = std::filesystem::path(::testing::TempDir()) / "stack_test_template.conf";
  std::ofstream(template_path) << "template port {port:admin}\nblock { literal {{port} }\n";
  ServerOptions options = ShowFile("files", "{dir}/sub/app.conf");
  options.files = {{.path = "sub/app.conf", .text = "listen {port}\ndir {dir}\n"},
                   {.path = "other.conf", .from = template_path}};
  Server server(std::move(options));
  server.Start();
  const std::string listen = "listen " + std::to_string(server.port());
  EXPECT_NO_THROW(server.process().WaitForLine(Exactly(listen), 10s));
  EXPECT_NO_THROW(server.process().WaitForLine(Exactly("dir " + server.dir().string()), 10s));
  std::ifstream other(server.dir() / "other.conf");
  std::string first, second;
  std::getline(other, first);
  std::getline(other, second);
  EXPECT_EQ(first, "template port " + std::to_string(server.port("admin")));
  EXPECT_EQ(second, "block { literal {port} }");
}

TEST(Stack, AMissingTemplateIsRefusedAtOnce) {
  Error e = ErrorOf([] { Server server({.command = {"x"}, .files = {{.path = "a", .from = "/nonexistent/t.in"}}}); });
  EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  EXPECT_THAT(e.what(), HasSubstr("files[0].from (\"/nonexistent/t.in\") cannot be read"));
  Error up = ErrorOf([] { Server server({.command = {"x"}, .files = {{.path = "../a", .text = ""}}}); });
  EXPECT_THAT(up.what(), HasSubstr("relative path inside the run directory"));
}

TEST(Stack, SetupCommandsRunOnceInTheDirectoryIntoTheServersLog) {
  ServerOptions options = ShowFile("setup", "{dir}/made");
  options.files = {{.path = "made", .text = "from a file\n"}};
  options.setup = {{FIXTURES_HELPER, "exit", "0", "setup says hello"}, {FIXTURES_HELPER, "pwd"}};
  Server server(std::move(options));
  server.Start();
  auto texts = [&] {
    std::vector<std::string> all;
    for (const Line& line : server.log().Lines()) all.push_back(line.text);
    return all;
  };
  auto lines = texts();
  auto at = [&](const std::string& text) { return std::find(lines.begin(), lines.end(), text) - lines.begin(); };
  ASSERT_LT(at("setup says hello"), static_cast<long>(lines.size()));
  ASSERT_LT(at(server.dir().string()), static_cast<long>(lines.size())) << "pwd of the setup command is {dir}";
  EXPECT_LT(at(server.dir().string()), at("shown")) << "setup output comes before the server's";
  server.Stop();
  server.Start();  // a restart keeps what setup made, and does not run it again
  lines = texts();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "setup says hello"), 0) << "the new run's log";
  EXPECT_NO_THROW(server.process().WaitForLine(Exactly("from a file"), 10s));
}

TEST(Stack, AFailingSetupCommandFailsTheStartAndKeepsTheDirectory) {
  std::filesystem::path dir;
  {
    ServerOptions options = ShowFile("setup-fails", "x");
    options.setup = {{FIXTURES_HELPER, "exit", "3", "cannot initialize the datadir"}};
    Server server(std::move(options));
    Error e = ErrorOf([&] { server.Start(); });
    EXPECT_EQ(e.kind(), ErrorKind::kSetupFailed);
    EXPECT_THAT(e.what(), HasSubstr("setup command 1 of 1 exited with code 3"));
    EXPECT_THAT(e.what(), HasSubstr("cannot initialize the datadir"));
    EXPECT_THAT(e.what(), HasSubstr("the server was not started"));
    ASSERT_TRUE(e.exit_status());
    EXPECT_EQ(e.exit_status()->code(), 3);
    dir = server.dir();
  }
  EXPECT_TRUE(std::filesystem::exists(dir)) << "kept after a failure";
  std::filesystem::remove_all(dir);
}

TEST(Stack, ASetupCommandPastItsBudgetIsStopped) {
  ServerOptions options = ShowFile("setup-slow", "x");
  options.setup = {{FIXTURES_HELPER, "print-ready", "working on it"}};  // never exits
  options.setup_timeout = 200ms;
  Server server(std::move(options));
  Error e = ErrorOf([&] { server.Start(); });
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  EXPECT_THAT(e.what(), HasSubstr("did not finish within the setup timeout"));
  EXPECT_THAT(e.what(), HasSubstr("then stopped: killed by SIGTERM"));
  std::filesystem::remove_all(server.dir());
}

TEST(Stack, ASetupCommandsLineIsNotTheServersReadyLine) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "ready 2"},
                 .ready = OutputMatches(R"(^ready (\d)$)"),
                 .name = "not-fooled",
                 .setup = {{FIXTURES_HELPER, "exit", "0", "ready 1"}}});
  server.Start();
  ASSERT_EQ(server.ready_groups().size(), 2u);
  EXPECT_EQ(server.ready_groups()[1], "2");
  EXPECT_EQ(server.process().WaitForLine(R"(^ready (\d)$)", 10s).groups[1], "2");
}

TEST(Stack, ACrashKeepsTheRunDirectory) {
  std::filesystem::path dir;
  {
    Server server(ShowFile("crashes", "{dir}/f"));
    server.Reserve();
    dir = server.dir();
    std::ofstream(dir / "f") << "x\n";
    server.Start();
    server.process().Signal(SIGKILL);
    ASSERT_TRUE(server.WaitForExit(ScaleTimeout(30s)));
  }
  EXPECT_TRUE(std::filesystem::exists(dir)) << "kept after a crash, for a person to read";
  std::filesystem::remove_all(dir);
}

TEST(Stack, AFilePathMustStayInsideTheRunDirectoryOnceExpanded) {
  ServerOptions options = ShowFile("escapes", "x");
  options.files = {{.path = "{dir}/x", .text = ""}};  // absolute once expanded
  Server server(std::move(options));
  Error e = ErrorOf([&] { server.Start(); });
  EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  EXPECT_THAT(e.what(), HasSubstr("once its placeholders are replaced"));
  std::filesystem::remove_all(server.dir());
}

TEST(Stack, TheRunDirectoryGoesWithAPassingServer) {
  std::filesystem::path dir;
  {
    Server server(ShowFile("clean", "{dir}/f"));
    server.Reserve();
    dir = server.dir();
    std::ofstream(dir / "f") << "x\n";
    server.Start();
    server.Stop();
    EXPECT_FALSE(server.keeps_dir());
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(Stack, ProbesTakeTheServersPlaceholders) {
  // Answers "not yet" twice, then "ok": `ask {port}` exits 0 at the third attempt.
  Server server({.command = {FIXTURES_HELPER, "answer", "{port}", "2"},
                 .ready = AllOf(CommandSucceeds({FIXTURES_HELPER, "ask", "{port}"}), FileExists("{dir}/marker")),
                 .name = "probed",
                 .files = {{.path = "marker", .text = "x"}}});
  server.Start();
  EXPECT_NO_THROW(server.log().WaitForLine("^connection 3$", ScaleTimeout(10s)));
  Server bad({.command = {HTTP_HELPER, "{port}"}, .ready = FileExists("{nope}/x"), .name = "bad-probe"});
  Error e = ErrorOf([&] { bad.Start(); });
  EXPECT_EQ(e.kind(), ErrorKind::kProbeFailed);
  EXPECT_THAT(e.what(), HasSubstr("unknown placeholder {nope}"));
}

TEST(Stack, StartsWhatIsNeededFirstAndWiresItsPorts) {
  Stack stack;
  ServerOptions front = ShowFile("front", "{dir}/conf");
  front.needs = {"back"};
  front.files = {{.path = "conf", .text = "upstream 127.0.0.1:{back.port}\n"}};
  Server& f = stack.Add(std::move(front));  // added first, started second
  Server& b = stack.Add(Http("back"));
  auto order = stack.StartOrder();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], &b);
  stack.Start();
  EXPECT_TRUE(b.running());
  EXPECT_NO_THROW(f.process().WaitForLine(Exactly("upstream 127.0.0.1:" + std::to_string(b.port())), 10s));
  EXPECT_EQ(&stack["back"], &b);
  stack.Stop();
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(b.running());
  ASSERT_TRUE(f.last_stop());
  EXPECT_TRUE(f.last_stop()->expected());
}

TEST(Stack, AMissingServerOrACycleIsAnErrorBeforeAnythingStarts) {
  {
    Stack stack;
    Server& a = stack.Add(Http("a"));
    ServerOptions b = Http("b");
    b.needs = {"database"};
    stack.Add(std::move(b));
    Error e = ErrorOf([&] { stack.Start(); });
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_THAT(e.what(), HasSubstr("server 'b' needs server 'database', which is not there (servers: 'a', 'b')"));
    EXPECT_EQ(a.runs(), 0);
  }
  {
    Stack stack;
    ServerOptions a = Http("a"), b = Http("b"), c = Http("c");
    a.needs = {"b"};
    b.needs = {"c"};
    c.needs = {"a"};
    Server& first = stack.Add(std::move(a));
    stack.Add(std::move(b));
    stack.Add(std::move(c));
    Error e = ErrorOf([&] { stack.Start(); });
    EXPECT_THAT(e.what(), HasSubstr("cycle: 'a' -> 'b' -> 'c' -> 'a'"));
    EXPECT_EQ(first.runs(), 0);
  }
  {
    Stack stack;
    stack.Add(Http("a"));
    EXPECT_THAT(ErrorOf([&] { stack.Add(Http("a")); }).what(), HasSubstr("a second server named 'a'"));
  }
}

TEST(Stack, AServerThatFailsToStartStopsTheOnesStartedBeforeIt) {
  Stack stack;
  Server& back = stack.Add(Http("back"));
  ServerOptions front = ShowFile("front", "x");
  front.needs = {"back"};
  front.setup = {{FIXTURES_HELPER, "exit", "1", "no"}};
  stack.Add(std::move(front));
  Error e = ErrorOf([&] { stack.Start(); });
  EXPECT_EQ(e.kind(), ErrorKind::kSetupFailed);
  EXPECT_THAT(e.what(), HasSubstr("starting stack back -> front: server 'front': its setup command 1 of 1"));
  EXPECT_EQ(back.runs(), 1);
  EXPECT_FALSE(back.running());
  std::filesystem::remove_all(stack["front"].dir());
}

TEST(Stack, AServerStartedAloneCannotUseItsNeeds) {
  ServerOptions options = Http("alone");
  options.needs = {"db"};
  Server server(std::move(options));
  Error e = ErrorOf([&] { server.Start(); });
  EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  EXPECT_THAT(e.what(), HasSubstr("needs server 'db', which it cannot find"));
}

TEST(Stack, AnEnclosingStacksServersCanBeNeeded) {
  Stack outer;
  Server& db = outer.Add(Http("db"));
  outer.Start();
  Stack inner(&outer);
  ServerOptions app = ShowFile("app", "{dir}/c");
  app.needs = {"db"};
  app.files = {{.path = "c", .text = "db at {db.port}\n"}};
  Server& a = inner.Add(std::move(app));
  inner.Start();
  EXPECT_NO_THROW(a.process().WaitForLine(Exactly("db at " + std::to_string(db.port())), 10s));
  inner.Stop();
  EXPECT_TRUE(db.running()) << "the enclosing stack's server is its own to stop";
}

// stack_suite (the glue's scopes with stacks) as a child, with its run directories under a
// directory of our own; its output.
std::string RunStackSuite(const std::string& filter, const std::filesystem::path& run_dir, ExitStatus& status) {
  Process suite({.command = {STACK_SUITE, "--gtest_also_run_disabled_tests", "--gtest_filter=" + filter},
                 .env = fixtures_test::ChildTestEnv({{"FIXTURES_RUN_DIR", run_dir.string()}, {"GTEST_COLOR", "no"}}),
                 .inherit_env = false,
                 .name = "stack_suite"});
  auto result = suite.WaitFor(ScaleTimeout(300s));
  if (!result) {
    ADD_FAILURE() << "stack_suite did not finish:\n" << suite.FormatTail(40);
    return "";
  }
  status = *result;
  std::string out;
  for (const auto& line : suite.log().Lines()) {
    if (line.stream == Stream::kOut || line.stream == Stream::kErr) out += line.text + "\n";
  }
  return out;
}

TEST(Stack, AFailedTestKeepsItsRunDirectoriesAndItsReportNamesThem) {
  const auto run_dir = std::filesystem::path(::testing::TempDir()) / ("stack-runs-" + std::to_string(::getpid()));
  std::filesystem::remove_all(run_dir);
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::string out = RunStackSuite("PerTest.DISABLED_FailsOnPurpose", run_dir, status);
  EXPECT_FALSE(status.success()) << out;
  EXPECT_THAT(out, HasSubstr("failing on purpose"));
  const std::string marker = "run directory {dir}, kept: ";
  auto at = out.find(marker);
  ASSERT_NE(at, std::string::npos) << out;
  std::string dir = out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
  EXPECT_EQ(std::filesystem::path(dir).parent_path(), run_dir) << out;
  std::filesystem::path evidence;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
    if (std::filesystem::exists(entry.path() / "evidence.txt")) evidence = entry.path() / "evidence.txt";
  }
  EXPECT_FALSE(evidence.empty()) << "the failed test's directory is kept";

  // Passing tests leave nothing.
  std::filesystem::remove_all(run_dir);
  out = RunStackSuite("PerTest.HasItsStackAndTheBinarysServers:PerSuite.*:EnvStack.*", run_dir, status);
  EXPECT_TRUE(status.success()) << out;
  EXPECT_THAT(out, HasSubstr("[  PASSED  ] 3 tests"));
  EXPECT_THAT(out, ::testing::ContainsRegex(R"(\[ fixtures \] server 'env-back' ready after [0-9]+ ms \(log: )"));
  EXPECT_TRUE(!std::filesystem::exists(run_dir) || std::filesystem::is_empty(run_dir)) << out;
  std::filesystem::remove_all(run_dir);
}

}  // namespace
}  // namespace fixtures
