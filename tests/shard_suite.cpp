// A gtest binary that shard_test.cpp runs as 4 gtest shards at once (GTEST_TOTAL_SHARDS=4,
// GTEST_SHARD_INDEX=0..3), to show that each shard has its own servers, ports, run directories,
// log files and report file. Servers in the glue's three scopes: one for the binary ("shard-env",
// up for the whole shard), one per suite ("per-suite"), one per test ("per-test").
//
// For each server it used, a test prints one tab-separated line on stdout:
//   shard-record <test> <server> <port> <log file> <run directory or -> <from ns> <to ns>
// where [from, to] (steady_clock, the same clock in every process of the host) is a time
// during which the server was running on that port.
//
// With $SHARD_SYNC_DIR set, the binary-wide stack has a second server, "barrier": once
// "shard-env" is ready, its setup command creates $SHARD_SYNC_DIR/started-<GTEST_SHARD_INDEX>,
// and it is ready when every shard's file is there (inotify, within its startup timeout). So no
// shard runs a test before every shard's "shard-env" is up, and those stay up until their shard
// ends: the shards' servers are alive at the same time, whatever the scheduling.
//
// The DISABLED_FailsOnPurpose tests fail (shard_test.cpp runs them with
// --gtest_also_run_disabled_tests), to check what each shard's failure report names.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

namespace {

std::string Env(const char* name, const char* otherwise) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : otherwise;
}

fixtures::ServerOptions LineServer(std::string name) {
  return {.command = {LINE_SERVER, "{port}"},
          .ready = fixtures::OutputMatches("^listening on port \\d+$"),
          .name = std::move(name),
          .files = {{.path = "owner", .text = "{port}\n"}}};  // so that it has a run directory
}

fixtures::ServerOptions Barrier(const std::string& sync_dir) {
  std::vector<fixtures::Readiness> started;
  const int total = std::stoi(Env("GTEST_TOTAL_SHARDS", "1"));
  for (int i = 0; i < total; ++i) started.push_back(fixtures::FileExists(sync_dir + "/started-" + std::to_string(i)));
  return {.command = {FIXTURES_HELPER, "print-ready", "waiting for the other shards"},
          .ready = fixtures::AllOf(std::move(started)),
          .startup_timeout = 60s,  // scaled by FIXTURES_TIMEOUT_SCALE
          .name = "barrier",
          .needs = {"shard-env"},
          .setup = {{"touch", sync_dir + "/started-" + Env("GTEST_SHARD_INDEX", "0")}}};
}

fixtures::Server& env_server = fixtures::AddServerEnvironment(LineServer("shard-env"));
[[maybe_unused]] fixtures::Server* const barrier =
    std::getenv("SHARD_SYNC_DIR") != nullptr ? &fixtures::AddServerEnvironment(Barrier(Env("SHARD_SYNC_DIR", "")))
                                             : nullptr;

long long Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// Exchanges a line with `server` (its log records the exchange), then prints its record.
void Use(fixtures::Server& server) {
  const long long from = Now();
  ASSERT_TRUE(server.running()) << server.name();
  const std::string test = TestName();
  auto client = server.tcp();
  client.SendLine("echo " + test);
  EXPECT_EQ(client.ReadLine(fixtures::ScaleTimeout(10s)), test);
  ASSERT_TRUE(server.running()) << server.name();
  const long long to = Now();
  const std::string dir = server.has_dir() ? server.dir().string() : "-";
  std::printf("shard-record\t%s\t%s\t%d\t%s\t%s\t%lld\t%lld\n", test.c_str(), server.name().c_str(), server.port(),
              server.log().file().c_str(), dir.c_str(), from, to);
  std::fflush(stdout);
}

void FailOnPurpose() { ADD_FAILURE() << "failing on purpose in shard " << Env("GTEST_SHARD_INDEX", "-"); }

}  // namespace

TEST(Env, EchoesALine) { Use(env_server); }
TEST(Env, EchoesAgain) { Use(env_server); }
TEST(Env, EchoesOnceMore) { Use(env_server); }
TEST(Env, DISABLED_FailsOnPurpose) {
  Use(env_server);
  FailOnPurpose();
}

class PerTest : public fixtures::ServerTest {
 protected:
  PerTest() : ServerTest(LineServer("per-test")) {}
};

TEST_F(PerTest, EchoesALine) { Use(server()); }
TEST_F(PerTest, EchoesTwoLines) {
  Use(server());
  Use(server());
}
TEST_F(PerTest, SeesTheBinarysServerToo) {
  Use(server());
  Use(env_server);
}
TEST_F(PerTest, KeepsItsPortInItsRunDirectory) {
  std::ifstream owner(server().dir() / "owner");
  int port = 0;
  EXPECT_TRUE(owner >> port);
  EXPECT_EQ(port, server().port());
  Use(server());
}
TEST_F(PerTest, DISABLED_FailsOnPurpose) {
  Use(server());
  FailOnPurpose();
}
TEST_F(PerTest, DISABLED_FailsOnPurposeToo) {
  Use(server());
  FailOnPurpose();
}

class PerSuite : public fixtures::SuiteServerTest<PerSuite> {
 public:
  static fixtures::ServerOptions Options() { return LineServer("per-suite"); }
};

TEST_F(PerSuite, EchoesALine) { Use(server()); }
TEST_F(PerSuite, EchoesAgain) { Use(server()); }
TEST_F(PerSuite, SeesTheBinarysServerToo) {
  Use(server());
  Use(env_server);
}
TEST_F(PerSuite, DISABLED_FailsOnPurpose) {
  Use(server());
  FailOnPurpose();
}
