// Scaling out: shard_suite run as 4 gtest shards at once (GTEST_TOTAL_SHARDS=4,
// GTEST_SHARD_INDEX=0..3, all started, then all waited for), sharing one log directory, one run
// directory parent and one FIXTURES_REPORT_FILE, as a CI loop over shards would. Each shard must
// get its own ports, run directories, log files and report file.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "child_env.hpp"
#include "fixtures/process.hpp"
#include "fixtures/timeout.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int kShards = 4;

// One "shard-record" line of shard_suite: a server a test used, and a time it ran on its port.
struct Record {
  int shard = -1;
  std::string test;
  std::string server;
  int port = 0;
  std::filesystem::path log_file;  // one per server run: it names the server
  std::string dir;
  long long from = 0;
  long long to = 0;
};

struct Shard {
  int index = -1;
  int pid = 0;
  std::optional<ExitStatus> status;
  std::string out;               // its stdout and stderr lines
  std::vector<std::string> ran;  // the tests it ran ("[ RUN      ] " lines)
  std::vector<Record> records;
};

std::vector<std::string> Split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, separator);) fields.push_back(field);
  return fields;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Lines(const Process& process) {
  std::string out;
  for (const auto& line : process.log().Lines()) {
    if (line.stream == Stream::kOut || line.stream == Stream::kErr) out += line.text + "\n";
  }
  return out;
}

// The pid in a log file's name, <name>-<pid>-<n>.log; 0 when it is not such a name.
int PidOfLogFile(const std::filesystem::path& file) {
  static const std::regex name(R"(^.+-(\d+)-(\d+)\.log$)");
  std::smatch match;
  const std::string base = file.filename().string();
  return std::regex_match(base, match, name) ? std::stoi(match[1]) : 0;
}

// The tests of shard_suite that run without --gtest_also_run_disabled_tests.
std::multiset<std::string> ListedTests() {
  Process list({.command = {SHARD_SUITE, "--gtest_list_tests", "--gtest_filter=-*DISABLED_*"},
                .env = fixtures_test::ChildTestEnv(),
                .inherit_env = false,
                .name = "shard_suite-list"});
  auto status = list.WaitFor(ScaleTimeout(60s));
  EXPECT_TRUE(status && status->success()) << list.FormatTail(40);
  std::multiset<std::string> tests;
  std::string suite;
  for (const auto& line : list.log().Lines()) {
    if (line.stream != Stream::kOut || line.text.empty()) continue;
    if (line.text[0] != ' ') {
      suite = line.text;  // "Suite."
    } else {
      tests.insert(suite + line.text.substr(line.text.find_first_not_of(' ')));
    }
  }
  return tests;
}

// Starts the 4 shards together, then waits for all of them.
std::vector<Shard> RunShards(const std::vector<std::string>& arguments, const fixtures_test::EnvList& env) {
  std::vector<std::unique_ptr<Process>> children;
  for (int i = 0; i < kShards; ++i) {
    fixtures_test::EnvList shard_env = env;
    shard_env.insert(shard_env.end(), {{"GTEST_TOTAL_SHARDS", std::to_string(kShards)},
                                       {"GTEST_SHARD_INDEX", std::to_string(i)},
                                       {"GTEST_COLOR", "no"}});
    std::vector<std::string> command{SHARD_SUITE};
    command.insert(command.end(), arguments.begin(), arguments.end());
    children.push_back(std::make_unique<Process>(ProcessOptions{.command = command,
                                                                .env = fixtures_test::ChildTestEnv(shard_env),
                                                                .inherit_env = false,
                                                                .name = "shard_suite-" + std::to_string(i)}));
  }
  const auto deadline = Clock::now() + ScaleTimeout(85s);
  std::vector<Shard> shards;
  for (int i = 0; i < kShards; ++i) {
    Process& child = *children[i];
    Shard& shard = shards.emplace_back();
    shard.index = i;
    shard.pid = child.pid();
    shard.status = child.WaitFor(std::max(Clock::duration::zero(), deadline - Clock::now()));
    if (!shard.status) ADD_FAILURE() << "shard " << i << " did not finish in time:\n" << child.FormatTail(40);
    shard.out = Lines(child);
    std::stringstream out(shard.out);
    const std::string run = "[ RUN      ] ";
    for (std::string line; std::getline(out, line);) {
      if (line.starts_with(run)) shard.ran.push_back(line.substr(run.size()));
      auto fields = Split(line, '\t');
      if (fields.size() != 8 || fields[0] != "shard-record") continue;
      shard.records.push_back({.shard = i, .test = fields[1], .server = fields[2], .port = std::stoi(fields[3]),
                               .log_file = fields[4], .dir = fields[5], .from = std::stoll(fields[6]),
                               .to = std::stoll(fields[7])});
    }
  }
  return shards;
}

// What a log file says: the tests it saw (their boundaries, "sys| [ RUN      ] X", and their
// exchanges, "cli| tcp#N > echo X") and the ports its server listened on ("out| listening on
// port P").
struct LogContents {
  std::set<std::string> tests;
  std::set<int> ports;
};

LogContents ReadLog(const std::filesystem::path& file) {
  static const std::regex run(R"(^\+\S+ sys\| \[ RUN      \] (\S+))");
  static const std::regex echo(R"(^\+\S+ cli\| \S+ > echo (\S+)\\x0A$)");
  static const std::regex listening(R"(^\+\S+ out\| listening on port (\d+)$)");
  LogContents contents;
  std::stringstream in(ReadFile(file));
  std::smatch match;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, match, run) || std::regex_search(line, match, echo)) contents.tests.insert(match[1]);
    if (std::regex_search(line, match, listening)) contents.ports.insert(std::stoi(match[1]));
  }
  return contents;
}

std::filesystem::path FreshDirectory(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(Shard, FourShardsAtOnceKeepTheirPortsRunDirectoriesAndLogsApart) {
  const auto work = FreshDirectory("shards");
  const auto logs = work / "logs";
  const auto runs = work / "runs";
  const auto sync = work / "sync";
  std::filesystem::create_directories(sync);  // watched by each shard's barrier
  const std::multiset<std::string> listed = ListedTests();
  ASSERT_GE(listed.size(), 8u);

  auto shards = RunShards({}, {{"FIXTURES_LOG_DIR", logs.string()},
                               {"FIXTURES_RUN_DIR", runs.string()},
                               {"SHARD_SYNC_DIR", sync.string()}});

  // Every shard passed, and together they ran every test once.
  std::multiset<std::string> ran;
  for (const Shard& shard : shards) {
    EXPECT_TRUE(shard.status && shard.status->success())
        << "shard " << shard.index << " ended with " << (shard.status ? shard.status->Describe() : "no exit")
        << ":\n"
        << shard.out;
    EXPECT_FALSE(shard.ran.empty()) << "shard " << shard.index << " ran no test";
    ran.insert(shard.ran.begin(), shard.ran.end());
  }
  EXPECT_EQ(ran, listed);
  // Every shard's barrier saw every shard's binary-wide server up: they ran at the same time.
  for (int i = 0; i < kShards; ++i) EXPECT_TRUE(std::filesystem::exists(sync / ("started-" + std::to_string(i))));

  std::vector<Record> records;
  std::map<int, int> shard_of_pid;
  for (const Shard& shard : shards) {
    shard_of_pid[shard.pid] = shard.index;
    const std::set<std::string> its_tests(shard.ran.begin(), shard.ran.end());
    std::set<std::string> recorded;
    for (const Record& record : shard.records) {
      EXPECT_TRUE(its_tests.contains(record.test)) << record.test << " recorded by shard " << shard.index;
      recorded.insert(record.test);
      records.push_back(record);
    }
    EXPECT_EQ(recorded, its_tests) << "each test of shard " << shard.index << " recorded its servers";
  }
  ASSERT_FALSE(HasFailure());

  // Ports: the binary-wide servers, alive together (the barrier), have 4 distinct ports; and no
  // two servers ran on one port at the same time, within a shard or across shards.
  std::set<int> env_ports;
  std::map<int, std::set<int>> ports_of_shard;
  for (const Shard& shard : shards) {
    const auto ports = ReadLog(logs / ("shard-env-" + std::to_string(shard.pid) + "-1.log")).ports;
    EXPECT_EQ(ports.size(), 1u) << "the binary-wide server of shard " << shard.index;
    env_ports.insert(ports.begin(), ports.end());
    ports_of_shard[shard.index] = ports;
  }
  EXPECT_EQ(env_ports.size(), static_cast<std::size_t>(kShards));
  for (const Record& a : records) {
    for (const Record& b : records) {
      if (a.log_file == b.log_file || a.port != b.port) continue;
      EXPECT_TRUE(a.to < b.from || b.to < a.from)
          << "port " << a.port << " used at the same time by server '" << a.server << "' of shard " << a.shard << " ("
          << a.test << ") and server '" << b.server << "' of shard " << b.shard << " (" << b.test << ")";
    }
  }

  // Run directories: one per server, under FIXTURES_RUN_DIR, removed after the passing run.
  std::map<std::string, std::set<std::filesystem::path>> servers_of_dir;
  for (const Record& record : records) {
    EXPECT_EQ(std::filesystem::path(record.dir).parent_path(), runs) << record.server << " in " << record.test;
    servers_of_dir[record.dir].insert(record.log_file);
  }
  for (const auto& [dir, servers] : servers_of_dir) EXPECT_EQ(servers.size(), 1u) << dir << " has several servers";
  EXPECT_TRUE(!std::filesystem::exists(runs) || std::filesystem::is_empty(runs));

  // Logs: one directory for all; each file is one shard's (its pid in the name) and holds only
  // that shard's tests and ports; each record names a file of its own shard.
  for (const Record& record : records) {
    ports_of_shard[record.shard].insert(record.port);
    EXPECT_EQ(record.log_file.parent_path(), logs);
    auto pid = PidOfLogFile(record.log_file);
    EXPECT_TRUE(shard_of_pid.contains(pid) && shard_of_pid[pid] == record.shard)
        << record.log_file << " used by shard " << record.shard;
  }
  std::map<int, int> files_of_shard;
  for (const auto& entry : std::filesystem::directory_iterator(logs)) {
    const int pid = PidOfLogFile(entry.path());
    ASSERT_TRUE(shard_of_pid.contains(pid)) << entry.path() << " is not a file of one of the shards";
    const Shard& shard = shards[shard_of_pid[pid]];
    ++files_of_shard[shard.index];
    const LogContents contents = ReadLog(entry.path());
    for (const std::string& test : contents.tests) {
      EXPECT_THAT(shard.ran, ::testing::Contains(test)) << entry.path() << " (shard " << shard.index << ")";
    }
    for (int port : contents.ports) {
      EXPECT_TRUE(ports_of_shard[shard.index].contains(port)) << entry.path() << " (shard " << shard.index
                                                              << ") listened on port " << port;
    }
    // The binary-wide server's file has every test of its shard, and no other.
    if (entry.path().filename().string().starts_with("shard-env-")) {
      EXPECT_EQ(contents.tests, std::set<std::string>(shard.ran.begin(), shard.ran.end())) << entry.path();
    }
  }
  EXPECT_EQ(files_of_shard.size(), static_cast<std::size_t>(kShards));
  if (!HasFailure()) std::filesystem::remove_all(work);
}

TEST(Shard, EachShardsFailureReportIsItsOwnAndNamesItsOwnFiles) {
  const auto work = FreshDirectory("shard-reports");
  const auto logs = work / "logs";
  const auto reports = work / "reports";
  // One report file for all, as a user sets it once for a loop over shards.
  auto shards = RunShards({"--gtest_also_run_disabled_tests", "--gtest_filter=*.DISABLED_FailsOnPurpose*"},
                          {{"FIXTURES_LOG_DIR", logs.string()},
                           {"FIXTURES_RUN_DIR", (work / "runs").string()},
                           {"FIXTURES_REPORT_FILE", (reports / "report.txt").string()}});

  std::map<int, int> shard_of_pid;
  std::multiset<std::string> ran;
  std::vector<const Shard*> failed;
  for (const Shard& shard : shards) {
    shard_of_pid[shard.pid] = shard.index;
    ran.insert(shard.ran.begin(), shard.ran.end());
    if (shard.ran.empty()) {
      EXPECT_TRUE(shard.status && shard.status->success()) << shard.out;
      continue;
    }
    failed.push_back(&shard);
    EXPECT_TRUE(shard.status && !shard.status->success()) << shard.out;
    EXPECT_THAT(shard.out, HasSubstr("failing on purpose in shard " + std::to_string(shard.index)));
  }
  EXPECT_EQ(ran.size(), 4u);
  EXPECT_EQ(std::set<std::string>(ran.begin(), ran.end()).size(), 4u) << "each test ran once";
  ASSERT_GE(failed.size(), 2u) << "the failing tests must fall into several shards to tell their reports apart";

  // Every "full log: FILE" a report names, on the shard's output and in its report file, is a
  // file of that shard (its pid in the name) that has the failed test's lines.
  static const std::regex full_log(R"(full log: ([^)\s]+))");
  auto check_names = [&](const Shard& shard, const std::string& report, const std::string& where) {
    int named = 0;
    for (auto it = std::sregex_iterator(report.begin(), report.end(), full_log); it != std::sregex_iterator(); ++it) {
      const std::filesystem::path file = (*it)[1].str();
      ++named;
      const int pid = PidOfLogFile(file);
      EXPECT_TRUE(shard_of_pid.contains(pid) && shard_of_pid[pid] == shard.index)
          << where << " of shard " << shard.index << " names " << file;
      const auto tests = ReadLog(file).tests;
      EXPECT_FALSE(tests.empty()) << file;
      for (const std::string& test : tests) EXPECT_THAT(shard.ran, ::testing::Contains(test)) << file;
    }
    EXPECT_GE(named, 1) << where << " of shard " << shard.index << ":\n" << report;
  };

  // Each failed shard's report is in a file of its own, which holds no other shard's report.
  std::map<int, std::filesystem::path> report_of_shard;
  for (const auto& entry : std::filesystem::directory_iterator(reports)) {
    const std::string text = ReadFile(entry.path());
    std::vector<int> in_it;
    for (int i = 0; i < kShards; ++i) {
      if (text.find("failing on purpose in shard " + std::to_string(i)) != std::string::npos) in_it.push_back(i);
    }
    EXPECT_EQ(in_it.size(), 1u) << entry.path() << " holds the reports of " << in_it.size() << " shards:\n" << text;
    for (int i : in_it) report_of_shard[i] = entry.path();
  }
  for (const Shard* shard : failed) {
    ASSERT_TRUE(report_of_shard.contains(shard->index)) << "the report of shard " << shard->index << " is lost";
    const auto& file = report_of_shard[shard->index];
    EXPECT_EQ(file.filename(), "report.shard-" + std::to_string(shard->index) + "-of-4.txt");
    check_names(*shard, ReadFile(file), "the report file " + file.string());
    check_names(*shard, shard->out, "the output");
  }
  if (!HasFailure()) std::filesystem::remove_all(work);
}

}  // namespace
}  // namespace fixtures
