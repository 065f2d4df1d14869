#pragma once
// The environment of a child gtest binary that a test runs and reads the output of: ours, minus
// every variable that changes what a gtest binary or the gtest glue runs or prints, plus
// `overrides`. For `ProcessOptions{.env = ChildTestEnv(...), .inherit_env = false}`.
//
// They are removed, not set to "": googletest reads a flag's variable whenever it is set, and
// an empty GTEST_BRIEF or GTEST_SHUFFLE means "on" (BoolFromGTestEnv: anything but "0"), an
// empty GTEST_FILTER matches no test (1.12: a pattern "" matches only the name ""), and an empty
// GTEST_REPEAT prints a warning.
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace fixtures_test {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// True for a variable a child gtest binary must not inherit from the test that runs it.
inline bool AltersAChildTestRun(std::string_view name) {
  // googletest: every flag (GTEST_FILTER, GTEST_BRIEF, GTEST_SHUFFLE, GTEST_REPEAT,
  // GTEST_OUTPUT, GTEST_COLOR, ...) and GTEST_SHARD_INDEX, GTEST_TOTAL_SHARDS,
  // GTEST_SHARD_STATUS_FILE; and the Bazel variables it reads (gtest.cc, gtest-port.cc).
  if (name.starts_with("GTEST_")) return true;
  for (std::string_view exact : {"XML_OUTPUT_FILE", "TESTBRIDGE_TEST_ONLY", "TESTBRIDGE_TEST_RUNNER_FAIL_FAST",
                                 "TEST_PREMATURE_EXIT_FILE", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS",
                                 "TEST_SHARD_STATUS_FILE", "TEST_WARNINGS_OUTPUT_FILE"}) {
    if (name == exact) return true;
  }
  // The gtest glue: a shared server to attach to (and the ctest pid its keeper watches), and
  // the report copy. FIXTURES_LOG_DIR, FIXTURES_TIMEOUT_SCALE and the port range and lock
  // directory stay: they tell where logs go, how slow the build is, and keep ports unique.
  // FIXTURES_ECHO and FIXTURES_PROGRESS change what it prints on stderr.
  for (std::string_view exact : {"FIXTURES_SHARED_DIR", "FIXTURES_SHARED_WATCH_PID", "FIXTURES_REPORT_FILE",
                                 "FIXTURES_ECHO", "FIXTURES_PROGRESS"}) {
    if (name == exact) return true;
  }
  return false;
}

// `environment` ("NAME=value" entries) without the variables above, then `overrides` (which
// win over an inherited variable of the same name).
inline EnvList ChildTestEnv(const EnvList& overrides, char** environment) {
  EnvList env;
  for (char** e = environment; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto equals = entry.find('=');
    if (equals == std::string_view::npos) continue;
    std::string name(entry.substr(0, equals));
    if (AltersAChildTestRun(name)) continue;
    bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const auto& kv) { return kv.first == name; });
    if (!overridden) env.emplace_back(name, std::string(entry.substr(equals + 1)));
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

// Our own environment, cleaned as above.
inline EnvList ChildTestEnv(const EnvList& overrides = {}) { return ChildTestEnv(overrides, environ); }

}  // namespace fixtures_test
