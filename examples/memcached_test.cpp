// memcached, as Debian installs it, spoken to in its text protocol (CRLF line endings) by a
// socket client. At -vv it logs every command it gets, so a failing test shows both sides.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>
#include <fixtures/socket_client.hpp>

#include "installed.hpp"

class Memcached : public fixtures::SuiteServerTest<Memcached> {
 public:
  static std::vector<fixtures::ServerOptions> Options() {
    return {{
        // -u: as root it insists on a user to run as (a normal user's run ignores it); -U 0: no
        // UDP port (it would take our port number over UDP too).
        .command = {"memcached", "-l", "127.0.0.1", "-p", "{port}", "-U", "0", "-u", "nobody", "-vv"},
        .ready = fixtures::OutputMatches("server listening"),
        .name = "memcached",
    }};
  }
  // Skipped, not failed, where memcached is not installed.
  static void SetUpTestSuite() {
    if (!examples::Installed("memcached").empty()) SuiteServerTest::SetUpTestSuite();
  }
  void SetUp() override { EXAMPLES_SKIP_UNLESS_INSTALLED("memcached"); }

  static fixtures::SocketClient Connect() {
    fixtures::SocketClient client = server().tcp();
    client.set_line_ending("\r\n");
    return client;
  }
};

TEST_F(Memcached, SetThenGet) {
  auto mc = Connect();
  mc.SendLine("set color 0 0 4");  // key, flags, expiry, length; then the data
  mc.SendLine("blue");
  EXPECT_EQ(mc.ReadLine(), "STORED");
  mc.SendLine("get color");
  EXPECT_EQ(mc.ReadLine(), "VALUE color 0 4");
  EXPECT_EQ(mc.ReadLine(), "blue");
  EXPECT_EQ(mc.ReadLine(), "END");
}

TEST_F(Memcached, IncrementsACounter) {
  auto mc = Connect();
  mc.SendLine("set visits 0 0 1");
  mc.SendLine("5");
  EXPECT_EQ(mc.ReadLine(), "STORED");
  mc.SendLine("incr visits 2");
  EXPECT_EQ(mc.ReadLine(), "7");
  mc.SendLine("decr visits 10");
  EXPECT_EQ(mc.ReadLine(), "0");  // never below zero
}

TEST_F(Memcached, DeleteForgetsTheKey) {
  auto mc = Connect();
  mc.SendLine("add session 0 0 2");
  mc.SendLine("ok");
  EXPECT_EQ(mc.ReadLine(), "STORED");
  mc.SendLine("delete session");
  EXPECT_EQ(mc.ReadLine(), "DELETED");
  mc.SendLine("get session");
  EXPECT_EQ(mc.ReadLine(), "END");  // no VALUE line: a miss
  mc.SendLine("delete session");
  EXPECT_EQ(mc.ReadLine(), "NOT_FOUND");
}

TEST_F(Memcached, UnknownCommandIsAnError) {
  auto mc = Connect();
  mc.SendLine("fly away");
  EXPECT_EQ(mc.ReadLine(), "ERROR");
}
