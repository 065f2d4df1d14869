#include "fixtures/gtest.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs report_suite as a child (through our own Process) and returns its stdout.
std::string RunReportSuite(const std::string& mode, ExitStatus* status) {
  Process suite({.command = {REPORT_SUITE},
                 .env = {{"REPORT_MODE", mode}, {"GTEST_COLOR", "no"}}});
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
  EXPECT_THAT(block, HasSubstr("lines during Report.FailingTest, times from its start (full log: "));
  EXPECT_THAT(block, HasSubstr("err| GET /failing-test-path -> 200"));
  // One timeline: the client's record of the answer it got and the server's own line about
  // the request (which the server may write after answering) interleave in time order.
  EXPECT_THAT(block, HasSubstr("cli| http GET /failing-test-path -> 200 (5 bytes, sent 0 bytes, "));
  std::vector<double> times;
  std::istringstream report(block.substr(block.find("[ fixtures ] server 'web'")));
  std::string line;
  std::getline(report, line);  // the header
  while (std::getline(report, line)) {
    double t = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), " %lfs", &t), 1) << line;
    times.push_back(t);
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

}  // namespace
}  // namespace fixtures
