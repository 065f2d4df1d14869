// The check of what only a failing test case of the Catch2 and doctest examples can show: each
// example's test case that fails on purpose runs as a child, after one that passes, and its
// failure output must hold, after the framework's own failure messages, the lines the server
// wrote during that test case (times, streams, a control byte escaped), the path of the full
// log file, and nothing the server wrote before that test case.
#include <stdlib.h>

#include <gmock/gmock.h>

#include <fixtures/process.hpp>
#include <fixtures/timeout.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

namespace {

struct ChildRun {
  fixtures::ExitStatus status = fixtures::ExitStatus::Unknown();
  std::string out;  // stdout and stderr, lines in the order they came
  std::filesystem::path log_dir;
};

// Runs `command` with its log files and run directories in a fresh directory of `dir`.
ChildRun RunChild(const std::vector<std::string>& command, const std::filesystem::path& dir) {
  ChildRun run;
  run.log_dir = dir / "logs";
  fixtures::Process child({
      .command = command,
      .env = {{"FIXTURES_LOG_DIR", run.log_dir.string()}, {"FIXTURES_RUN_DIR", dir.string()}},
      .name = std::filesystem::path(command[0]).filename().string(),
  });
  if (auto status = child.WaitFor(fixtures::ScaleTimeout(120s))) {
    run.status = *status;
  } else {
    ADD_FAILURE() << command[0] << " did not finish:\n" << child.FormatTail(40);
    child.Stop();
  }
  for (const auto& line : child.log().Lines()) {
    if (line.stream == fixtures::Stream::kOut || line.stream == fixtures::Stream::kErr) run.out += line.text + "\n";
  }
  return run;
}

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/fixtures-check-XXXXXX";  // short: a Unix socket path must fit
    path_ = ::mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Checks the output of a run of "greeter greets by name" then "greeter fails on purpose".
void CheckFailedRun(const ChildRun& run, const std::string& failure_marker) {
  SCOPED_TRACE("the child's output:\n" + run.out);
  EXPECT_TRUE(run.status.exited() && run.status.code() != 0) << run.status.Describe();
  const auto failure = run.out.find(failure_marker);
  ASSERT_NE(failure, std::string::npos) << "no failure of the framework's own: " << failure_marker;

  // The report: its header, then its lines, each indented by 4 spaces.
  const std::regex header(
      R"(\[ fixtures \] server 'greeter_server': (\d+) lines during test case "greeter fails on purpose", )"
      R"(times since the test case's start \(full log: ([^)]+)\):\n)");
  std::smatch found;
  ASSERT_TRUE(std::regex_search(run.out, found, header)) << "no report of the server's lines";
  EXPECT_LT(failure, static_cast<std::size_t>(found.position(0))) << "the lines come after the failure";
  std::string block;
  for (auto at = static_cast<std::size_t>(found.position(0) + found.length(0));
       run.out.compare(at, 4, "    ") == 0;) {
    auto end = run.out.find('\n', at) + 1;
    block += run.out.substr(at, end - at);
    at = end;
  }
  EXPECT_GE(std::stoi(found[1]), 3) << block;

  // What the server and the test case's client wrote during the test case, times and streams
  // as the gtest glue shows them, the control byte of the path escaped.
  const std::string time = R"(    \+\d+\.\d{6}s )";
  for (const std::string& line : {time + R"(cli\| http GET /greet\?name=Margaret -> 200 )",
                                  time + R"(err\| GET /greet -> 200 \(16 bytes\)\n)",
                                  time + R"(err\| GET /no\\x01such -> 404 )"}) {
    EXPECT_TRUE(std::regex_search(block, std::regex(line))) << "no line /" << line << "/ in:\n" << block;
  }
  // The test case before it passed: no report of its own, and none of its lines here (the
  // client's are written as it goes; the greeter's own "GET /greet -> 200 (11 bytes)" may come
  // after that test case ended, and then belongs to this one).
  EXPECT_THAT(block, Not(HasSubstr("name=Ada")));
  EXPECT_EQ(run.out.find("[ fixtures ] server"), static_cast<std::size_t>(found.position(0)));
  EXPECT_THAT(run.out, Not(HasSubstr("at the end of the test run"))) << "the stop went as asked";

  // The full log file: where the test's environment put it, with every line of the run.
  const std::filesystem::path file = found[2].str();
  EXPECT_EQ(file.parent_path(), run.log_dir);
  std::ostringstream text;
  text << std::ifstream(file).rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("err| GET /greet -> 200 (11 bytes)\n"));
  EXPECT_THAT(text.str(), HasSubstr("err| GET /greet -> 200 (16 bytes)\n"));
}

}  // namespace

#ifdef CATCH2_TEST
TEST(Catch2Example, AFailedTestCaseShowsTheServersLinesOfThatTestCase) {
  TempDir dir;
  auto run = RunChild({CATCH2_TEST, "greeter greets by name,greeter fails on purpose"}, dir.path());
  CheckFailedRun(run, "FAILED:\n  CHECK( res->body == \"Hello, Margaret?\" )\n");
  EXPECT_THAT(run.out, HasSubstr("test cases: 2 | 1 passed | 1 failed"));
}

// A server that dies during a test case: the test cases after it that need it fail, naming how
// it ended, and the end of the run says so.
TEST(Catch2Example, AServerThatDiedFailsTheTestCasesAfter) {
  TempDir dir;
  auto run = RunChild({CATCH2_TEST, "--order", "lex", "greeter crashes on purpose,greeter greets by name"},
                      dir.path());
  SCOPED_TRACE("the child's output:\n" + run.out);
  EXPECT_TRUE(run.status.exited() && run.status.code() == 1) << run.status.Describe();
  // Catch2 wraps an exception's message at 80 columns.
  EXPECT_THAT(run.out, HasSubstr("greeter greets by name\n----"));
  EXPECT_THAT(run.out, HasSubstr("server 'greeter_server' killed by SIGKILL without Stop, so this test case\n"));
  EXPECT_THAT(run.out, HasSubstr("test cases: 2 | 1 passed | 1 failed"));
  EXPECT_THAT(run.out, HasSubstr("[ fixtures ] server 'greeter_server' crashed before the stop (at the end of the "
                                 "test run): killed by SIGKILL"));
}
#endif

#ifdef DOCTEST_TEST
TEST(DoctestExample, AFailedTestCaseShowsTheServersLinesOfThatTestCase) {
  TempDir dir;
  auto run = RunChild({DOCTEST_TEST, "--no-skip", "--no-colors",
                       "--test-case=greeter greets by name,greeter fails on purpose"},
                      dir.path());
  CheckFailedRun(run, "ERROR: CHECK( res->body == \"Hello, Margaret?\" ) is NOT correct!\n");
  EXPECT_THAT(run.out, HasSubstr("test cases: 2 | 1 passed | 1 failed"));
}
#endif
