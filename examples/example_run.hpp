// For the checks that run an example's test binary as a child (a test that fails on purpose,
// then maybe others) and assert on what it printed: nginx_proxy_check.cpp, mariadb_check.cpp.
#pragma once

#include <stdlib.h>

#include <fixtures/process.hpp>
#include <fixtures/timeout.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace examples {

struct ExampleRun {
  fixtures::ExitStatus status = fixtures::ExitStatus::Unknown();
  std::string out;     // what it printed, stdout and stderr
  std::string report;  // the failure reports it appended to $FIXTURES_REPORT_FILE
};

/// Runs the tests of `binary` that `filter` selects (disabled ones included), in that order,
/// with run directories made in a directory of its own: those a failed test keeps go with it
/// afterwards.
inline ExampleRun RunExample(const std::string& binary, const std::string& filter) {
  char dir_template[] = "/tmp/fixtures-check-XXXXXX";  // short: a Unix socket path must fit
  std::filesystem::path tmp = ::mkdtemp(dir_template);
  fixtures::Process child({
      .command = {binary, "--gtest_filter=" + filter, "--gtest_also_run_disabled_tests"},
      .env = {{"FIXTURES_RUN_DIR", tmp.string()},
              {"FIXTURES_REPORT_FILE", (tmp / "report.txt").string()},
              {"GTEST_COLOR", "no"}},
      .name = std::filesystem::path(binary).filename().string(),
  });
  ExampleRun run;
  if (auto status = child.WaitFor(fixtures::ScaleTimeout(240s))) {
    run.status = *status;
  } else {
    ADD_FAILURE() << binary << " did not finish:\n" << child.FormatTail(40);
    child.Stop();
  }
  for (const auto& line : child.log().Lines()) {
    if (line.stream == fixtures::Stream::kOut || line.stream == fixtures::Stream::kErr) run.out += line.text + "\n";
  }
  std::ostringstream report;
  report << std::ifstream(tmp / "report.txt").rdbuf();
  run.report = report.str();
  std::filesystem::remove_all(tmp);
  return run;
}

/// What the run printed for one test: from its RUN line to its OK or FAILED line.
inline std::string Block(const std::string& out, const std::string& test) {
  auto begin = out.find("[ RUN      ] " + test + "\n");
  if (begin == std::string::npos) return "";
  auto end = std::min(out.find("\n[       OK ] " + test, begin), out.find("\n[  FAILED  ] " + test, begin));
  return end == std::string::npos ? out.substr(begin) : out.substr(begin, end + 14 + test.size() - begin);
}

}  // namespace examples
