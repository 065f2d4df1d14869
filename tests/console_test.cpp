// What a user sees while servers run: every line on stderr with FIXTURES_ECHO, progress lines
// on long waits, "ready after N ms", and a server's output consumer (`on_line`).
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "child_env.hpp"
#include "fixtures/server.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

struct ChildRun {
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::vector<std::string> out;  // its stdout lines
  std::vector<std::string> err;  // its stderr lines
};

// console_child MODE ARGS... with `env` added; its exit status and its lines.
ChildRun RunConsoleChild(std::vector<std::string> args, fixtures_test::EnvList env) {
  args.insert(args.begin(), CONSOLE_CHILD);
  Process child({.command = args, .env = fixtures_test::ChildTestEnv(std::move(env)), .inherit_env = false,
                 .name = "console_child"});
  ChildRun run;
  auto status = child.WaitFor(ScaleTimeout(120s));
  if (!status) {
    ADD_FAILURE() << "console_child did not finish:\n" << child.FormatTail(40);
    return run;
  }
  run.status = *status;
  for (const Line& line : child.log().Lines()) {
    if (line.stream == Stream::kOut) run.out.push_back(line.text);
    if (line.stream == Stream::kErr) run.err.push_back(line.text);
  }
  return run;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

int CountStartingWith(const std::vector<std::string>& lines, std::string_view prefix) {
  return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

TEST(Console, EchoWritesEveryLineOfEveryServerInOrderEscaped) {
  ChildRun run = RunConsoleChild({"echo"}, {{"FIXTURES_ECHO", "1"}});
  ASSERT_TRUE(run.status.success()) << run.status.Describe() << "\n" << Joined(run.err);
  std::map<std::string, std::string> logs;  // server name -> its log file
  for (const auto& line : run.out) {
    std::istringstream words(line);
    std::string word, name, path;
    if (words >> word >> name >> path && word == "log") logs[name] = path;
  }
  ASSERT_EQ(logs.size(), 2u) << Joined(run.out);
  for (const auto& [name, path] : logs) {
    // What the echo must be: each record of the log file, "+T out| TEXT", as
    // "[NAME] +Ts out| " and TEXT escaped as reports do (4096 bytes shown at most).
    std::vector<std::string> expected;
    std::ifstream file(path, std::ios::binary);
    ASSERT_TRUE(file) << path;
    for (std::string record; std::getline(file, record);) {
      const auto space = record.find(' ');
      ASSERT_NE(space, std::string::npos) << record;
      expected.push_back("[" + name + "] " + record.substr(0, space) + "s " + record.substr(space + 1, 5) +
                         EscapeBytes(std::string_view(record).substr(space + 6), 4096));
    }
    std::vector<std::string> echoed;
    for (const auto& line : run.err) {
      if (line.starts_with("[" + name + "] ")) echoed.push_back(line);
    }
    ASSERT_GE(expected.size(), 5u) << path;
    EXPECT_EQ(echoed, expected) << "server '" << name << "': its echo on stderr is not its log, line for line";
  }
  // The hostile bytes arrived escaped, the note and the stop too.
  const std::string err = Joined(run.err);
  EXPECT_THAT(err, HasSubstr("[noisy] "));
  EXPECT_THAT(err, ContainsRegex(R"(\[noisy\] \+[0-9.]+s out\| nul:\\x00:inside)"));
  EXPECT_THAT(err, ContainsRegex(R"(\[noisy\] \+[0-9.]+s err~ \\x00\\x00tail without newline \\xF0\\x9F\\x98)"));
  EXPECT_THAT(err, ContainsRegex(R"(\[calm\] \+[0-9.]+s sys\| a note from the test)"));
  EXPECT_THAT(err, ContainsRegex(R"(\[calm\] \+[0-9.]+s out\| calm and ready)"));
}

TEST(Console, WithoutEchoNothingOfTheServersIsOnStderr) {
  ChildRun run = RunConsoleChild({"echo"}, {{"FIXTURES_ECHO", "calm"}});  // only the one named
  ASSERT_TRUE(run.status.success()) << run.status.Describe() << "\n" << Joined(run.err);
  EXPECT_EQ(CountStartingWith(run.err, "[noisy] "), 0) << Joined(run.err);
  EXPECT_GT(CountStartingWith(run.err, "[calm] "), 0) << Joined(run.err);
}

TEST(Console, AStartThatWaitsLongPrintsProgressAndAQuickOneDoesNot) {
  ChildRun slow = RunConsoleChild({"slow-start", "3000"}, {});
  ASSERT_TRUE(slow.status.success()) << slow.status.Describe() << "\n" << Joined(slow.err);
  EXPECT_GE(CountStartingWith(slow.err, "[ fixtures ] waiting for server 'slow' to be ready: line matching /^listening$/"), 1)
      << Joined(slow.err);
  EXPECT_THAT(Joined(slow.err), ContainsRegex(R"(to be ready: .* \([0-9.]+s of [0-9.]+m?s\))"));

  ChildRun quick = RunConsoleChild({"slow-start", "100"}, {});
  ASSERT_TRUE(quick.status.success()) << quick.status.Describe() << "\n" << Joined(quick.err);
  long long ready_after_ms = -1;
  for (const auto& line : quick.out) {
    if (line.starts_with("ready_after_ms ")) ready_after_ms = std::stoll(line.substr(15));
  }
  ASSERT_GE(ready_after_ms, 100) << Joined(quick.out);
  // Progress starts after 1 s of waiting (counted from the spawn's end, so within ready_after).
  if (ready_after_ms < 1000) {
    EXPECT_EQ(CountStartingWith(quick.err, "[ fixtures ] waiting for"), 0) << Joined(quick.err);
  }
}

TEST(Console, ALongSetupCommandAndALongStopPrintProgress) {
  ChildRun run = RunConsoleChild({"slow-setup-and-stop", "2000"}, {});
  ASSERT_TRUE(run.status.success()) << run.status.Describe() << "\n" << Joined(run.err);
  const std::string err = Joined(run.err);
  EXPECT_THAT(err, ContainsRegex(R"(\[ fixtures \] waiting for server 'stubborn' setup command 1 of 1 to finish: .*exit-later 2000 0 'setup done' \([0-9.]+s of )"));
  EXPECT_THAT(err, ContainsRegex(R"(\[ fixtures \] waiting for server 'stubborn' to exit after SIGTERM, SIGKILL once the grace is spent \([0-9.]+s of 2s\))"));
  EXPECT_THAT(Joined(run.out), HasSubstr("stopped: killed by SIGKILL"));
}

TEST(Console, ReadyAfterIsKeptAndLogged) {
  Server server({.command = {FIXTURES_HELPER, "print-ready", "up"}, .ready = OutputMatches("^up$"), .name = "quick"});
  EXPECT_FALSE(server.ready_after());
  server.Start();
  ASSERT_TRUE(server.ready_after());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*server.ready_after()).count();
  EXPECT_NO_THROW(server.log().WaitForLine("^ready after " + std::to_string(ms) + R"( ms: line matching /\^up\$/.*: seen$)", 0s))
      << OutputLog::Format(server.log().Lines(), server.log().start_time());
  server.Stop();
}

TEST(Console, AServersConsumerGetsEveryLineOfItsLogSetupIncluded) {
  std::mutex mutex;
  std::vector<Line> consumed;
  ServerOptions options{.command = {FIXTURES_HELPER, "print-ready", "up"}, .ready = OutputMatches("^up$"),
                        .name = "consumed", .setup = {{FIXTURES_HELPER, "exit", "0", "setup says hi"}}};
  options.on_line = [&](const Line& line, const OutputLog&) {
    std::lock_guard lock(mutex);
    consumed.push_back(line);
  };
  Server server(std::move(options));
  server.Start();
  server.Stop();  // the reader has handed every line over once the stop returns
  const auto lines = server.log().Lines();
  std::lock_guard lock(mutex);
  ASSERT_EQ(consumed.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(consumed[i].seq, lines[i].seq);
    EXPECT_EQ(consumed[i].text, lines[i].text);
    EXPECT_EQ(consumed[i].stream, lines[i].stream);
  }
  auto has = [&](std::string_view text) {
    return std::any_of(consumed.begin(), consumed.end(), [&](const Line& l) { return l.text == text; });
  };
  EXPECT_TRUE(has("setup says hi"));
  EXPECT_TRUE(has("up"));
}

}  // namespace
}  // namespace fixtures
