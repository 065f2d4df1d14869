#include "fixtures/gtest.hpp"

#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "child_env.hpp"

namespace fixtures {
namespace {

// The time of a report line "    +1.234567s out| ...", read with from_chars (whatever the C
// locale's decimal point); nullopt when the line has none.
std::optional<double> ReportTime(std::string_view line) {
  auto at = line.find_first_not_of(' ');
  if (at == std::string_view::npos || line[at] != '+') return std::nullopt;
  double seconds = 0;
  auto [end, ec] = std::from_chars(line.data() + at + 1, line.data() + line.size(), seconds, std::chars_format::fixed);
  if (ec != std::errc() || end == line.data() + line.size() || *end != 's') return std::nullopt;
  return seconds;
}

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

using fixtures_test::ChildTestEnv;

// Runs report_suite as a child (through our own Process) and returns its stdout. Whatever
// GTEST_* or FIXTURES_SHARED_DIR our own run was given, the child runs and prints as by default.
std::string RunReportSuite(const std::string& mode, ExitStatus* status) {
  Process suite({.command = {REPORT_SUITE},
                 .env = ChildTestEnv({{"REPORT_MODE", mode}, {"GTEST_COLOR", "no"}}),
                 .inherit_env = false});
  auto result = suite.WaitFor(300s);
  if (!result) {
    ADD_FAILURE() << "report_suite did not finish";
    return "";
  }
  *status = *result;
  std::string out;
  for (const auto& line : suite.log().Lines()) {
    if (line.stream == Stream::kOut) out += line.text + "\n";
  }
  return out;
}

TEST(GtestReport, FailingTestPrintsTheServerLinesOfThatTestOnly) {
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::string out = RunReportSuite("", &status);
  EXPECT_EQ(status.Describe(), "exited with code 1") << out;

  auto failing = out.find("[ RUN      ] Report.FailingTest");
  auto failed = out.find("[  FAILED  ] Report.FailingTest", failing);
  ASSERT_NE(failing, std::string::npos) << out;
  ASSERT_NE(failed, std::string::npos) << out;
  std::string block = out.substr(failing, failed - failing);
  EXPECT_THAT(block, HasSubstr("deliberate failure"));
  EXPECT_THAT(block, HasSubstr("[ fixtures ] server 'web': "));
  EXPECT_THAT(block, HasSubstr("lines during Report.FailingTest, times since the test's start (full log: "));
  EXPECT_THAT(block, HasSubstr("err| GET /failing-test-path -> 200"));
  // One timeline: the client's record of the answer it got and the server's own line about
  // the request (which the server may write after answering) interleave in time order.
  EXPECT_THAT(block, HasSubstr("cli| http GET /failing-test-path -> 200 (5 bytes, sent 0 bytes, "));
  std::vector<double> times;
  std::istringstream report(block.substr(block.find("[ fixtures ] server 'web'")));
  std::string line;
  std::getline(report, line);  // the header
  while (std::getline(report, line)) {
    auto t = ReportTime(line);
    ASSERT_TRUE(t) << line;
    times.push_back(*t);
  }
  EXPECT_GE(times.size(), 2u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end())) << block;
  // Lines of other tests are not in this test's report.
  EXPECT_THAT(block, Not(HasSubstr("passing-test-path")));
  EXPECT_THAT(block, Not(HasSubstr("later-test-path")));
  // The report follows the failure message and precedes the FAILED line.
  EXPECT_LT(block.find("deliberate failure"), block.find("[ fixtures ] server 'web'"));
  // Passing tests print no report.
  EXPECT_THAT(out, Not(HasSubstr("lines during Report.PassingTest")));
  EXPECT_THAT(out, HasSubstr("[ fixtures ] server 'web' stopped: exited with code 0"));
}

TEST(GtestReport, ServerCrashFailsThatTestAndTheNextAtOnce) {
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::string out = RunReportSuite("crash", &status);
  EXPECT_EQ(status.Describe(), "exited with code 1") << out;
  auto run = out.find("[ RUN      ] Crash.ServerDiesDuringThisTest");
  auto failed = out.find("[  FAILED  ] Crash.ServerDiesDuringThisTest", run);
  ASSERT_NE(failed, std::string::npos) << out;
  std::string block = out.substr(run, failed - run);
  EXPECT_THAT(block, HasSubstr("server 'web' killed by SIGABRT during this test"));
  EXPECT_THAT(block, HasSubstr("err| about to crash"));
  EXPECT_THAT(block, HasSubstr("sys| killed by SIGABRT"));
  EXPECT_THAT(out, HasSubstr("[  FAILED  ] Crash.NextTestFailsAtOnce"));
  EXPECT_THAT(out, HasSubstr("server 'web' killed by SIGABRT during test Crash.ServerDiesDuringThisTest "
                             "and was not restarted, so this test cannot run"));
  EXPECT_THAT(out, Not(HasSubstr("this body must not run")));
  // The tests before the crash passed.
  EXPECT_THAT(out, HasSubstr("[       OK ] Report.PassingTest"));
}

// The glue's lock is not held while a server restarts before a test: another thread watches
// and unwatches a server meanwhile (the restart waits for it to have done so).
TEST(GtestReport, RestartBeforeATestHoldsUpNoOtherThread) {
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::string out = RunReportSuite("watch-during-restart", &status);
  auto run = out.find("[ RUN      ] Restart.AnotherThreadWatchedDuringTheRestart");
  ASSERT_NE(run, std::string::npos) << out;
  std::string block = out.substr(run);
  EXPECT_THAT(block, HasSubstr("[       OK ] Restart.AnotherThreadWatchedDuringTheRestart")) << out;
  EXPECT_THAT(out, HasSubstr("[ fixtures ] server 'restarting' restarted before Restart.AnotherThreadWatchedDuringTheRestart "
                             "(server 'restarting' killed by SIGKILL during test Restart.ServerIsKilled)"))
      << out;
}

TEST(GtestReport, StartFailureFailsEveryTestWithTheDiagnosis) {
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  auto begin = Clock::now();
  std::string out = RunReportSuite("start-fails", &status);
  EXPECT_LT(Clock::now() - begin, 300s);  // the 600 s start-up budget was not waited for
  EXPECT_EQ(status.Describe(), "exited with code 1") << out;
  EXPECT_THAT(out, HasSubstr("server 'broken' exited with code 7 before it was ready"));
  EXPECT_THAT(out, HasSubstr("err| cannot open database"));
  for (const char* test : {"PassingTest", "FailingTest", "LaterTest"}) {
    EXPECT_THAT(out, HasSubstr(std::string("[  FAILED  ] Report.") + test)) << out;
  }
  EXPECT_THAT(out, HasSubstr("server 'broken' failed to start, so this test cannot run"));
  // The bodies did not run: no request was attempted.
  EXPECT_THAT(out, Not(HasSubstr("Connection")));
}

// Sets environment variables for one scope, then puts back what was there (set or unset).
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) {
    for (auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_.push_back({name, old != nullptr ? std::optional<std::string>(old) : std::nullopt});
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (auto& [name, old] : saved_) {
      if (old) ::setenv(name.c_str(), old->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ChildTestEnv, DropsWhatChangesAChildGtestRunAndKeepsTheRest) {
  std::vector<std::string> entries = {
      "PATH=/usr/bin", "GTEST_FILTER=Other.*", "GTEST_BRIEF=", "GTEST_SHUFFLE=1", "GTEST_REPEAT=3",
      "GTEST_OUTPUT=xml:/tmp/x.xml", "GTEST_COLOR=yes", "GTEST_TOTAL_SHARDS=2", "XML_OUTPUT_FILE=/tmp/y.xml",
      "TESTBRIDGE_TEST_ONLY=Other.*", "FIXTURES_SHARED_DIR=/tmp/shared", "FIXTURES_REPORT_FILE=/tmp/r",
      "FIXTURES_LOG_DIR=/tmp/logs", "FIXTURES_TIMEOUT_SCALE=5", "ASAN_OPTIONS=detect_leaks=1", "REPORT_MODE=old",
      "NOEQUALS", "EMPTY="};
  std::vector<char*> environment;
  for (auto& entry : entries) environment.push_back(entry.data());
  environment.push_back(nullptr);
  auto env = ChildTestEnv({{"REPORT_MODE", "crash"}, {"GTEST_COLOR", "no"}}, environment.data());
  EXPECT_THAT(env, ::testing::UnorderedElementsAre(
                       std::pair<std::string, std::string>("PATH", "/usr/bin"),
                       std::pair<std::string, std::string>("FIXTURES_LOG_DIR", "/tmp/logs"),
                       std::pair<std::string, std::string>("FIXTURES_TIMEOUT_SCALE", "5"),
                       std::pair<std::string, std::string>("ASAN_OPTIONS", "detect_leaks=1"),
                       std::pair<std::string, std::string>("EMPTY", ""),
                       std::pair<std::string, std::string>("REPORT_MODE", "crash"),
                       std::pair<std::string, std::string>("GTEST_COLOR", "no")));
}

// The report suite run by a test that was itself given GTEST_* variables (the user's, or ctest's
// environment), and a shared-server directory: the child runs and prints as by default.
TEST(GtestReport, ChildRunIgnoresOurGtestAndSharedServerVariables) {
  auto json = std::filesystem::path(::testing::TempDir()) / ("hostile-" + std::to_string(::getpid()) + ".json");
  ScopedEnv hostile({{"GTEST_BRIEF", "1"},               // would hide the OK lines
                     {"GTEST_SHUFFLE", ""},              // empty still means on
                     {"GTEST_RANDOM_SEED", "3"},
                     {"GTEST_FILTER", "Report.LaterTest"},
                     {"GTEST_REPEAT", "2"},
                     {"GTEST_FAIL_FAST", "1"},
                     {"GTEST_OUTPUT", "json:" + json.string()},
                     {"FIXTURES_SHARED_DIR", "/nonexistent/shared"},  // would attach, not start
                     {"FIXTURES_REPORT_FILE", "/nonexistent/report.txt"}});
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::string out = RunReportSuite("", &status);
  EXPECT_EQ(status.Describe(), "exited with code 1") << out;
  // Every test once, in the file's order, with its OK or FAILED line.
  auto passing = out.find("[       OK ] Report.PassingTest");
  auto failing = out.find("[  FAILED  ] Report.FailingTest (");
  auto later = out.find("[       OK ] Report.LaterTest");
  ASSERT_NE(passing, std::string::npos) << out;
  ASSERT_NE(failing, std::string::npos) << out;
  ASSERT_NE(later, std::string::npos) << out;
  EXPECT_LT(passing, failing) << out;
  EXPECT_LT(failing, later) << out;
  EXPECT_EQ(out.find("[       OK ] Report.PassingTest", passing + 1), std::string::npos) << "run twice:\n" << out;
  EXPECT_THAT(out, Not(HasSubstr("Randomizing tests' orders"))) << out;
  EXPECT_THAT(out, Not(HasSubstr("Repeating all tests"))) << out;
  EXPECT_THAT(out, HasSubstr("[ fixtures ] server 'web' stopped: exited with code 0"));  // started, not attached
  EXPECT_FALSE(std::filesystem::exists(json)) << json;
}

// --- The same behaviour with a server per binary, per suite and per test (scope_suite.cpp) ---

struct SuiteRun {
  ExitStatus status = ExitStatus::FromWaitStatus(0);
  std::string out;  // stdout and stderr, in order
};

// scope_suite with `args`, to its end; its stdout and stderr. Unless `contained`, what it
// leaves running outlives it (a shared server's keeper, as under ctest).
SuiteRun RunSuiteProcess(const std::vector<std::string>& args, std::vector<std::pair<std::string, std::string>> env,
                         bool contained = true) {
  env.emplace_back("GTEST_COLOR", "no");
  std::vector<std::string> command{SCOPE_SUITE};
  command.insert(command.end(), args.begin(), args.end());
  Process suite({.command = command, .env = ChildTestEnv(env), .inherit_env = false, .name = "scope_suite",
                 .die_with_parent = contained});
  SuiteRun run;
  auto result = suite.WaitFor(600s);
  if (!result) {
    ADD_FAILURE() << "scope_suite " << args.front() << " did not finish:\n" << suite.FormatTail(40);
    return run;
  }
  run.status = *result;
  for (const auto& line : suite.log().Lines()) {
    if (line.stream == Stream::kOut || line.stream == Stream::kErr) run.out += line.text + "\n";
  }
  return run;
}

SuiteRun RunScopeSuite(const std::string& scope, const std::string& tests,
                       std::vector<std::pair<std::string, std::string>> env = {},
                       std::vector<std::string> extra_args = {}) {
  std::string fixture = scope == "environment" ? "EnvScope" : scope == "suite" ? "SuiteScope" : "TestScope";
  std::string filter;
  std::size_t start = 0;
  while (start <= tests.size()) {  // "A:B" -> "Fixture.A:Fixture.B"
    auto end = std::min(tests.find(':', start), tests.size());
    filter += (filter.empty() ? "" : ":") + fixture + "." + tests.substr(start, end - start);
    start = end + 1;
  }
  env.emplace_back("REPORT_SCOPE", scope);
  std::vector<std::string> command{"--gtest_filter=" + filter};
  command.insert(command.end(), extra_args.begin(), extra_args.end());
  return RunSuiteProcess(command, env);
}

// What the run printed for one test: from its RUN line to its OK or FAILED line.
std::string Block(const std::string& out, const std::string& test) {
  auto begin = out.find("[ RUN      ] " + test + "\n");
  if (begin == std::string::npos) return "";
  auto ok = out.find("[       OK ] " + test, begin);
  auto failed = out.find("[  FAILED  ] " + test, begin);
  if (ok == std::string::npos && failed == std::string::npos) return "";  // it never ended
  return out.substr(begin, std::min(ok, failed) - begin + 13 + test.size());
}

std::string FixtureOf(const std::string& scope) {
  return scope == "environment" ? "EnvScope" : scope == "suite" ? "SuiteScope" : "TestScope";
}

class Scopes : public ::testing::TestWithParam<std::string> {};

TEST_P(Scopes, ServerKilledBySigsegvFailsThatTestWithItsLines) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto run = RunScopeSuite(scope, "Passes:ServerDiesOfSigsegv:NeedsTheServer");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  EXPECT_THAT(Block(run.out, fixture + ".Passes"), HasSubstr("[       OK ] ")) << run.out;
  std::string crash = Block(run.out, fixture + ".ServerDiesOfSigsegv");
  EXPECT_THAT(crash, HasSubstr("server 'asan' killed by SIGSEGV during this test")) << run.out;
  EXPECT_THAT(crash, HasSubstr("err| about to die of SIGSEGV"));
  EXPECT_THAT(crash, HasSubstr("sys| killed by SIGSEGV"));
  EXPECT_THAT(crash, HasSubstr("[  FAILED  ] " + fixture + ".ServerDiesOfSigsegv"));
  // Report times count from the test's start (for a per-test server, from its start), not
  // from some older zero: every line of this short test is within a few minutes of it.
  auto header = crash.find(" lines during " + fixture + ".ServerDiesOfSigsegv, times since the test's start");
  ASSERT_NE(header, std::string::npos) << crash;
  std::istringstream lines(crash.substr(crash.find('\n', header) + 1));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line) && line.starts_with("    +")) {
    auto t = ReportTime(line);
    ASSERT_TRUE(t) << line;
    EXPECT_LT(*t, 300.0) << line;
    ++checked;
  }
  EXPECT_GE(checked, 2) << crash;
  std::string next = Block(run.out, fixture + ".NeedsTheServer");
  if (scope == "test") {
    EXPECT_THAT(next, HasSubstr("[       OK ] ")) << "a test's own server is new: " << run.out;
  } else {
    EXPECT_THAT(next, HasSubstr("server 'asan' killed by SIGSEGV during test " + fixture +
                                ".ServerDiesOfSigsegv and was not restarted, so this test cannot run"))
        << run.out;
    EXPECT_THAT(next, HasSubstr("[  FAILED  ] "));
  }
}

TEST_P(Scopes, SanitizerReportFailsTheTestDuringWhichItWasWritten) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto run = RunScopeSuite(scope, "Passes:ServerHitsAnAsanReport");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  EXPECT_THAT(Block(run.out, fixture + ".Passes"), HasSubstr("[       OK ] ")) << run.out;
  std::string block = Block(run.out, fixture + ".ServerHitsAnAsanReport");
  EXPECT_THAT(block, HasSubstr("server 'asan' wrote an AddressSanitizer report during this test")) << run.out;
  // The whole report, from its first line to its summary, in the failure message.
  auto report = block.find("AddressSanitizer report (");
  ASSERT_NE(report, std::string::npos) << block;
  auto first = block.find("ERROR: AddressSanitizer: heap-buffer-overflow", report);
  auto summary = block.find("SUMMARY: AddressSanitizer: heap-buffer-overflow", report);
  EXPECT_NE(first, std::string::npos) << block;
  EXPECT_NE(summary, std::string::npos) << block;
  EXPECT_LT(first, summary);
  EXPECT_THAT(block, HasSubstr("[  FAILED  ] "));
}

TEST_P(Scopes, XmlStaysValidWithHostileBytesAndCarriesTheLogAndLines) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto dir = std::filesystem::path(::testing::TempDir()) / ("xml-" + scope + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto xml = dir / "report.xml";
  auto report_file = dir / "report.txt";
  auto run = RunScopeSuite(scope, "FailsWithHostileBytes", {{"FIXTURES_REPORT_FILE", report_file.string()}},
                           {"--gtest_output=xml:" + xml.string()});
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  // A strict XML parser reads it, and gives back the failed test's properties.
  Process parse({.command = {"python3", "-c", R"(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for case in root.iter("testcase"):
    for p in case.iter("property"):
        print(case.get("name") + " " + p.get("name") + "=" + p.get("value").replace("\n", "\\n"))
    for f in case.iter("failure"):
        print(case.get("name") + " failure=" + f.get("message").replace("\n", "\\n"))
print("parsed")
)", xml.string()},
                 .name = "python3-xml"});
  auto parsed = parse.WaitFor(120s);
  ASSERT_TRUE(parsed.has_value());
  std::string text;
  for (const auto& line : parse.log().Lines()) text += StreamName(line.stream) + (": " + line.text) + "\n";
  ASSERT_TRUE(parsed->success()) << "the XML does not parse:\n" << text;
  EXPECT_THAT(text, HasSubstr("out: parsed"));
  EXPECT_THAT(text, HasSubstr("out: FailsWithHostileBytes fixtures.asan.log=/")) << text;
  EXPECT_THAT(text, HasSubstr("out: FailsWithHostileBytes fixtures.asan.lines=")) << text;
  // The server's hostile line, escaped: invalid UTF-8 and non-characters as \xNN, markup as is.
  EXPECT_THAT(text, HasSubstr(R"(err| xml: ]]> </testcase> <![CDATA[ &amp; &#0; " ' \x0B\x0C\x7F )"
                              R"(\xEF\xBF\xBE \xEF\xBF\xBF \xC0\xAF \xFF nul:\x00:end)"))
      << text;
  EXPECT_THAT(text, HasSubstr("failure=")) << text;
  // The log path recorded is the server's log file, and it exists.
  auto at = text.find("fixtures.asan.log=");
  std::string log_path = text.substr(at + 18, text.find('\n', at) - at - 18);
  EXPECT_TRUE(std::filesystem::exists(log_path)) << log_path;
  // The same report went to FIXTURES_REPORT_FILE.
  std::ifstream in(report_file);
  std::string file_text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(file_text, HasSubstr("[  FAILED  ] " + fixture + ".FailsWithHostileBytes"));
  EXPECT_THAT(file_text, HasSubstr("deliberate failure after hostile output"));
  EXPECT_THAT(file_text, HasSubstr("(full log: " + log_path + ")"));
  EXPECT_THAT(file_text, HasSubstr(R"(\xEF\xBF\xBE)"));
}

TEST_P(Scopes, LeakReportWrittenWhileStoppingFailsTheTeardown) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto run = RunScopeSuite(scope, "LeaksThenStops");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  const char* where = scope == "environment" ? "while it was stopped (environment teardown)"
                      : scope == "suite"     ? "while it was stopped (TearDownTestSuite)"
                                             : "while it was stopped (TearDown)";
  EXPECT_THAT(run.out, HasSubstr(std::string("server 'asan' wrote a LeakSanitizer report ") + where)) << run.out;
  EXPECT_THAT(run.out, HasSubstr("ERROR: LeakSanitizer: detected memory leaks"));
  EXPECT_THAT(run.out, HasSubstr("byte(s) leaked in"));
  if (scope == "test") {
    EXPECT_THAT(Block(run.out, fixture + ".LeaksThenStops"), HasSubstr("[  FAILED  ] "));
  } else {
    EXPECT_THAT(Block(run.out, fixture + ".LeaksThenStops"), HasSubstr("[       OK ] ")) << run.out;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryScope, Scopes, ::testing::Values("environment", "suite", "test"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

TEST(GtestReport, RestartAfterCrashStartsTheServerAgainBeforeTheNextTest) {
  auto run = RunScopeSuite("environment", "ServerDiesOfSigsegv:NeedsTheServer", {{"REPORT_RESTART", "1"}});
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;  // the crash still fails its test
  EXPECT_THAT(Block(run.out, "EnvScope.ServerDiesOfSigsegv"), HasSubstr("killed by SIGSEGV during this test"));
  std::string next = Block(run.out, "EnvScope.NeedsTheServer");
  EXPECT_THAT(next, HasSubstr("[ fixtures ] server 'asan' restarted before EnvScope.NeedsTheServer (server 'asan' "
                              "killed by SIGSEGV during test EnvScope.ServerDiesOfSigsegv) on the same port {port}="))
      << run.out;
  EXPECT_THAT(next, HasSubstr("[       OK ] EnvScope.NeedsTheServer"));
}

// --- No false green: crashes at the edges of tests, statuses of stops, throwing set-up, restarts ---

// scope_suite in `scope` running `tests` ("A:B"), as RunScopeSuite, but with the variables that
// would change what the child runs or prints (GTEST_FILTER, GTEST_OUTPUT, a shared directory...)
// removed from its environment, so the parent's own settings do not leak into it.
SuiteRun RunCleanScopeSuite(const std::string& scope, const std::string& tests,
                            std::vector<std::pair<std::string, std::string>> env = {}) {
  static const std::set<std::string> kCleared = {"GTEST_FILTER", "GTEST_BRIEF",  "GTEST_SHUFFLE",
                                                 "GTEST_REPEAT", "GTEST_OUTPUT", "FIXTURES_SHARED_DIR"};
  std::vector<std::pair<std::string, std::string>> full;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    auto eq = text.find('=');
    if (eq == std::string::npos || kCleared.contains(text.substr(0, eq))) continue;
    full.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  full.emplace_back("GTEST_COLOR", "no");
  full.emplace_back("REPORT_SCOPE", scope);
  for (auto& kv : env) full.push_back(std::move(kv));
  std::string filter;
  std::size_t start = 0;
  while (start <= tests.size()) {
    auto end = std::min(tests.find(':', start), tests.size());
    filter += (filter.empty() ? "" : ":") + FixtureOf(scope) + "." + tests.substr(start, end - start);
    start = end + 1;
  }
  Process suite({.command = {SCOPE_SUITE, "--gtest_filter=" + filter}, .env = full, .inherit_env = false,
                 .name = "scope_suite"});
  SuiteRun run;
  auto result = suite.WaitFor(600s);
  if (!result) {
    ADD_FAILURE() << "scope_suite --gtest_filter=" << filter << " did not finish:\n" << suite.FormatTail(40);
    return run;
  }
  run.status = *result;
  for (const auto& line : suite.log().Lines()) {
    if (line.stream == Stream::kOut || line.stream == Stream::kErr) run.out += line.text + "\n";
  }
  return run;
}

class NoFalseGreen : public ::testing::TestWithParam<std::string> {};

// The test's last statement is a request that kills the server: the client gets a read error
// and the test ends before the exit is published. It is the last test of the binary.
TEST_P(NoFalseGreen, ACrashInTheLastStatementOfTheLastTestFailsThatTest) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("run " + std::to_string(i + 1) + " of 3");
    auto run = RunCleanScopeSuite(scope, "Passes:CrashesInItsLastStatement");
    EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
    std::string block = Block(run.out, fixture + ".CrashesInItsLastStatement");
    EXPECT_THAT(block, HasSubstr("[  FAILED  ] " + fixture + ".CrashesInItsLastStatement")) << run.out;
    EXPECT_THAT(block, HasSubstr("server 'asan' killed by SIGSEGV during this test")) << run.out;
    EXPECT_THAT(block, HasSubstr("err| about to die of SIGSEGV")) << run.out;
    EXPECT_THAT(block, HasSubstr("cli| http GET /segv")) << run.out;
    EXPECT_THAT(run.out, Not(HasSubstr("stopped: killed by SIGSEGV"))) << run.out;
  }
}

// The server dies after the last test ended, before the teardown that would stop it.
TEST_P(NoFalseGreen, ACrashAfterTheLastTestFailsTheTeardown) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto run = RunCleanScopeSuite(scope, "Passes", {{"REPORT_CRASH_BEFORE_TEARDOWN", "1"}});
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  EXPECT_THAT(run.out, HasSubstr("err| about to die of SIGSEGV")) << run.out;
  if (scope == "test") {  // its teardown is part of the test: the crash is during the test
    EXPECT_THAT(Block(run.out, fixture + ".Passes"), HasSubstr("server 'asan' killed by SIGSEGV during this test"))
        << run.out;
    return;
  }
  const char* teardown = scope == "environment" ? "environment teardown" : "TearDownTestSuite";
  EXPECT_THAT(run.out, HasSubstr(std::string("server 'asan' crashed before the stop (") + teardown +
                                 "): killed by SIGSEGV after the last test"))
      << run.out;
  EXPECT_THAT(run.out, HasSubstr("command: " ASAN_SERVER)) << run.out;
}

// The server dies of SIGSEGV while the teardown's SIGTERM is handled: not the stop's doing.
TEST_P(NoFalseGreen, ACrashDuringTheStopFailsTheTeardown) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto run = RunCleanScopeSuite(scope, "CrashesWhenStopped");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  const char* teardown = scope == "environment" ? "environment teardown"
                         : scope == "suite"     ? "TearDownTestSuite"
                                                : "TearDown";
  EXPECT_THAT(run.out, HasSubstr(std::string("server 'asan' crashed before or during the stop (") + teardown +
                                 "): killed by SIGSEGV, a signal the stop did not send (it sent SIGTERM)"))
      << run.out;
  EXPECT_THAT(run.out, HasSubstr("err| crashing on SIGTERM")) << run.out;
  EXPECT_THAT(run.out, Not(HasSubstr("stopped: killed by SIGSEGV"))) << run.out;
  if (scope == "test") {
    EXPECT_THAT(Block(run.out, fixture + ".CrashesWhenStopped"), HasSubstr("[  FAILED  ] "));
  }
}

// A server that answers the stop with a non-zero exit code fails the teardown.
TEST_P(NoFalseGreen, ANonZeroExitOnStopFailsTheTeardown) {
  const std::string scope = GetParam();
  auto run = RunCleanScopeSuite(scope, "ExitsWithCode3WhenStopped");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  EXPECT_THAT(run.out, HasSubstr("server 'asan' exited with code 3 when stopped (")) << run.out;
  EXPECT_THAT(run.out, HasSubstr("err| exiting with code 3 on SIGTERM")) << run.out;
  // Unless the options accept that status.
  auto accepted = RunCleanScopeSuite(scope, "ExitsWithCode3WhenStopped", {{"REPORT_ACCEPT_EXIT3", "1"}});
  EXPECT_TRUE(accepted.status.success()) << accepted.out;
  EXPECT_THAT(accepted.out, HasSubstr("[ fixtures ] server 'asan' stopped: exited with code 3")) << accepted.out;
}

// A bad stop is not hidden by a Start that follows it in the same test.
TEST_P(NoFalseGreen, ACrashDuringAStopInATestIsNotHiddenByARestart) {
  const std::string scope = GetParam(), fixture = FixtureOf(scope);
  auto run = RunCleanScopeSuite(scope, "CrashesWhenStoppedThenRestarts");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  std::string block = Block(run.out, fixture + ".CrashesWhenStoppedThenRestarts");
  EXPECT_THAT(block, HasSubstr("server 'asan' crashed before or during the stop (Server::Stop() during this test, "
                               "before a restart): killed by SIGSEGV"))
      << run.out;
  EXPECT_THAT(block, HasSubstr("[  FAILED  ] ")) << run.out;
}

INSTANTIATE_TEST_SUITE_P(EveryScope, NoFalseGreen, ::testing::Values("environment", "suite", "test"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

// Users put real set-up into a suite's Options(): when it throws, every test of the suite fails
// with the exception (never skipped), and so does each test run alone (as ctest runs them).
TEST(GtestReport, SuiteOptionsThatThrowFailEveryTestOfTheSuite) {
  auto run = RunCleanScopeSuite("suite", "Passes:NeedsTheServer", {{"REPORT_OPTIONS_THROW", "1"}});
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  for (const char* test : {"SuiteScope.Passes", "SuiteScope.NeedsTheServer"}) {
    std::string block = Block(run.out, test);
    EXPECT_THAT(block, HasSubstr(std::string("[  FAILED  ] ") + test)) << run.out;
    EXPECT_THAT(block, HasSubstr("std::runtime_error")) << run.out;
    EXPECT_THAT(block, HasSubstr("cannot create the test database")) << run.out;
  }
  EXPECT_THAT(run.out, Not(HasSubstr("SKIPPED"))) << run.out;
  EXPECT_THAT(run.out, Not(HasSubstr("cli| http GET"))) << run.out;  // no body ran
  auto alone = RunCleanScopeSuite("suite", "Passes", {{"REPORT_OPTIONS_THROW", "1"}});
  EXPECT_EQ(alone.status.Describe(), "exited with code 1") << alone.out;
  EXPECT_THAT(alone.out, HasSubstr("[  FAILED  ] SuiteScope.Passes")) << alone.out;
  EXPECT_THAT(alone.out, Not(HasSubstr("SKIPPED"))) << alone.out;
}

TEST(GtestReport, TestOptionsThatThrowFailTheTest) {
  auto run = RunCleanScopeSuite("test", "Passes:NeedsTheServer", {{"REPORT_OPTIONS_THROW", "1"}});
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  for (const char* test : {"TestScope.Passes", "TestScope.NeedsTheServer"}) {
    std::string block = Block(run.out, test);
    EXPECT_THAT(block, HasSubstr(std::string("[  FAILED  ] ") + test)) << run.out;
    EXPECT_THAT(block, HasSubstr("cannot create the test database")) << run.out;
  }
  EXPECT_THAT(run.out, Not(HasSubstr("SKIPPED"))) << run.out;
}

TEST(GtestReport, EnvironmentOptionsThatThrowFailTheBinary) {
  // The options are made at namespace scope, before main: the binary ends there, loudly.
  auto run = RunCleanScopeSuite("environment", "Passes", {{"REPORT_OPTIONS_THROW", "1"}});
  EXPECT_FALSE(run.status.success()) << run.out;
  EXPECT_THAT(run.out, HasSubstr("std::runtime_error")) << run.out;
  EXPECT_THAT(run.out, HasSubstr("cannot create the test database")) << run.out;
  EXPECT_THAT(run.out, Not(HasSubstr("[  PASSED  ]"))) << run.out;
}

// A restart keeps the server's reserved ports: a port, a base_url or a client kept from before
// still points at the server.
TEST(GtestReport, RestartAfterCrashKeepsThePort) {
  for (std::string scope : {"environment", "suite"}) {
    SCOPED_TRACE(scope);
    const std::string fixture = FixtureOf(scope);
    auto run = RunCleanScopeSuite(scope, "KeepsAPortAndAClient:ServerDiesOfSigsegv:HasTheSamePortAndTheKeptClientWorks",
                                  {{"REPORT_RESTART", "1"}});
    EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;  // the crash fails its test
    std::string next = Block(run.out, fixture + ".HasTheSamePortAndTheKeptClientWorks");
    EXPECT_THAT(next, HasSubstr("[       OK ] ")) << run.out;
    EXPECT_THAT(next, HasSubstr("[ fixtures ] server 'asan' restarted before " + fixture +
                                ".HasTheSamePortAndTheKeptClientWorks (server 'asan' killed by SIGSEGV during test " +
                                fixture + ".ServerDiesOfSigsegv) on the same port {port}="))
        << run.out;
  }
}

// --- One server across test processes, as ctest runs them with fixtures_add_test(... SHARED_SERVER) ---

class SharedServer : public ::testing::Test {
 protected:
  // One process of scope_suite running `test`, as ctest would (environment scope).
  SuiteRun Run(const std::string& test, std::vector<std::pair<std::string, std::string>> env = {}) {
    env.emplace_back("FIXTURES_SHARED_DIR", dir_.string());
    env.emplace_back("FIXTURES_LOG_DIR", dir_.string());
    env.emplace_back("REPORT_SCOPE", "environment");
    // The setup leaves its keeper running for the next processes.
    return RunSuiteProcess({"--gtest_filter=" + test}, std::move(env), test != "FixturesShared.Setup");
  }
  // The setup test, as ctest runs it first; it must succeed.
  void StartShared() {
    auto setup = Run("FixturesShared.Setup");
    ASSERT_TRUE(setup.status.success()) << setup.out;
    EXPECT_THAT(setup.out, HasSubstr("[ fixtures ] shared servers ready (keeper pid "));
  }
  // The shared server's log file, as the cleanup's output names it.
  static std::string SharedLog(const std::string& cleanup_out) {
    const std::string kept = "shared server 'asan' log kept: ";
    auto at = cleanup_out.find(kept);
    if (at == std::string::npos) return "";
    at += kept.size();
    std::ifstream log(cleanup_out.substr(at, cleanup_out.find('\n', at) - at));
    return std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  }
  void TearDown() override {
    // A keeper left behind by a failed assertion must not outlive the test (the cleanup
    // removes the state file).
    if (std::filesystem::exists(dir_ / "asan.state")) Run("FixturesShared.Cleanup");
  }
  std::filesystem::path dir_ = std::filesystem::path(::testing::TempDir()) /
                               ("shared-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
};

TEST_F(SharedServer, EveryTestProcessUsesTheOneServerAndACrashFailsTheTestDuringWhichItHappened) {
  ASSERT_NO_FATAL_FAILURE(StartShared());
  for (int i = 0; i < 3; ++i) {
    auto run = Run("EnvScope.Passes");
    EXPECT_TRUE(run.status.success()) << run.out;
  }
  auto crash = Run("EnvScope.ServerDiesOfSigsegv");
  EXPECT_EQ(crash.status.Describe(), "exited with code 1") << crash.out;
  std::string block = Block(crash.out, "EnvScope.ServerDiesOfSigsegv");
  EXPECT_THAT(block, HasSubstr("server 'asan' killed by SIGSEGV during this test")) << crash.out;
  EXPECT_THAT(block, HasSubstr("err| about to die of SIGSEGV"));
  EXPECT_THAT(block, HasSubstr("cli| http GET /segv"));
  auto next = Run("EnvScope.NeedsTheServer");
  EXPECT_EQ(next.status.Describe(), "exited with code 1") << next.out;
  EXPECT_THAT(next.out, HasSubstr("shared server 'asan' killed by SIGSEGV before this test process attached to it"))
      << next.out;
  EXPECT_THAT(next.out, Not(HasSubstr("cli| http GET /ok")));  // the body did not run
  auto cleanup = Run("FixturesShared.Cleanup");
  EXPECT_EQ(cleanup.status.Describe(), "exited with code 1") << cleanup.out;
  EXPECT_THAT(cleanup.out, HasSubstr("[ fixtures ] keeper: server 'asan' killed by SIGSEGV while shared"));
  EXPECT_THAT(cleanup.out, HasSubstr("shared server 'asan' log kept: "));

  // One server process served every test process: one start, five test processes in its log.
  std::string log = SharedLog(cleanup.out);
  ASSERT_FALSE(log.empty()) << cleanup.out;
  std::size_t starts = 0;
  for (auto at = log.find("sys| started pid "); at != std::string::npos; at = log.find("sys| started pid ", at + 1)) {
    ++starts;
  }
  EXPECT_EQ(starts, 1u) << log;
  std::set<std::string> processes;
  for (auto at = log.find("(test process "); at != std::string::npos; at = log.find("(test process ", at + 1)) {
    processes.insert(log.substr(at, log.find(')', at) - at));
  }
  // Three passing tests, the crashing one, and the one that found it gone: five processes.
  EXPECT_EQ(processes.size(), 5u) << log;
}

TEST_F(SharedServer, SanitizerReportFailsTheAttachedTestDuringWhichItWasWritten) {
  ASSERT_NO_FATAL_FAILURE(StartShared());
  auto run = Run("EnvScope.ServerHitsAnAsanReport");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  std::string block = Block(run.out, "EnvScope.ServerHitsAnAsanReport");
  EXPECT_THAT(block, HasSubstr("server 'asan' wrote an AddressSanitizer report during this test")) << run.out;
  EXPECT_THAT(block, HasSubstr("SUMMARY: AddressSanitizer: heap-buffer-overflow"));
}

TEST_F(SharedServer, AReportTheServerSurvivesIsReportedOnceAndNotByLaterProcesses) {
  ASSERT_NO_FATAL_FAILURE(StartShared());
  auto warns = Run("EnvScope.Warns");
  auto next = Run("EnvScope.Passes");
  // Read by the keeper before the test process ended (nearly always), the report fails the
  // test that asked for it; read a moment after, it fails the next process's test as written
  // "before this test started". Never both, never lost.
  const std::string during = "server 'asan' wrote an UndefinedBehaviorSanitizer report during this test";
  const std::string before = "server 'asan' wrote an UndefinedBehaviorSanitizer report before this test started";
  const bool in_warns = warns.out.find(during) != std::string::npos;
  const bool in_next = next.out.find(before) != std::string::npos;
  EXPECT_NE(in_warns, in_next) << warns.out << "\n----\n" << next.out;
  EXPECT_EQ(warns.status.success(), !in_warns) << warns.out;
  EXPECT_EQ(next.status.success(), !in_next) << next.out;
  EXPECT_THAT(in_warns ? warns.out : next.out, HasSubstr("runtime error: a deliberate report for the tests"));
  // A third process finds nothing to report: the report was somebody's already.
  auto third = Run("EnvScope.Passes");
  EXPECT_TRUE(third.status.success()) << third.out;
  EXPECT_THAT(third.out, Not(HasSubstr("UndefinedBehaviorSanitizer report")));
}

TEST_F(SharedServer, AnAttachedTestWaitsForTheServersLinesAndReportsThem) {
  ASSERT_NO_FATAL_FAILURE(StartShared());
  // The test waits (log().WaitForLine) for the server's line about its request: the attached
  // log follows the shared file as the keeper writes it.
  auto run = Run("EnvScope.FailsWithHostileBytes");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  std::string block = Block(run.out, "EnvScope.FailsWithHostileBytes");
  EXPECT_THAT(block, HasSubstr("deliberate failure after hostile output")) << run.out;  // the wait matched
  EXPECT_THAT(block, HasSubstr(R"(err| xml: ]]> </testcase> <![CDATA[ &amp; &#0; " ' \x0B\x0C\x7F )"));
  EXPECT_THAT(block, HasSubstr("err| GET /hostile -> 200"));
  EXPECT_THAT(block, HasSubstr("cli| http GET /hostile -> 200"));
}

TEST_F(SharedServer, SetupFailureShowsTheDiagnosisAndTestsSayWhyTheyCannotRun) {
  auto setup = Run("FixturesShared.Setup", {{"REPORT_BROKEN", "1"}});
  EXPECT_EQ(setup.status.Describe(), "exited with code 1") << setup.out;
  EXPECT_THAT(setup.out, HasSubstr("the keeper of the shared servers exited with code 1 before they were ready"));
  EXPECT_THAT(setup.out, HasSubstr("server 'asan' exited with code 2 before it was ready"));
  EXPECT_THAT(setup.out, HasSubstr("usage: asan_server PORT"));
  auto run = Run("EnvScope.Passes", {{"REPORT_BROKEN", "1"}});
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;
  EXPECT_THAT(run.out, HasSubstr("no shared server 'asan' in " + dir_.string() +
                                 " (FIXTURES_SHARED_DIR): its setup test (--gtest_filter=FixturesShared.Setup) "
                                 "did not run or did not succeed"));
}

}  // namespace
}  // namespace fixtures
