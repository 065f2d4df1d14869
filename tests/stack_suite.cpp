// Stacks in the gtest glue's three scopes. Run by ctest (the passing tests) and as a child by
// stack_test.cpp (a test that fails on purpose, to check what its report says and keeps).
#include <fstream>
#include <string>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

namespace {

fixtures::ServerOptions Http(std::string name) {
  return {.command = {HTTP_HELPER, "{port}"}, .ready = fixtures::OutputMatches("listening on port"), .name = std::move(name)};
}

// Shows "NAME: <ports of what it needs>" from a file of its run directory, then waits.
fixtures::ServerOptions Front(std::string name, std::vector<std::string> needs, std::string text) {
  return {.command = {FIXTURES_HELPER, "show-file", "{dir}/conf"},
          .ready = fixtures::OutputMatches("^shown$"),
          .name = std::move(name),
          .needs = std::move(needs),
          .files = {{.path = "conf", .text = std::move(text)}}};
}

// Registered before the server it needs: the glue starts them in the order of `needs`.
fixtures::Server& env_front = fixtures::AddServerEnvironment(Front("env-front", {"env-back"}, "back at {env-back.port}\n"));
fixtures::Server& env_back = fixtures::AddServerEnvironment(Http("env-back"));

void ExpectLine(fixtures::Server& server, const std::string& text) {
  EXPECT_NO_THROW(server.log().WaitForLine("^" + text + "$", fixtures::ScaleTimeout(10s)));
}

}  // namespace

TEST(EnvStack, StartsInTheOrderOfNeeds) {
  ASSERT_TRUE(env_back.running());
  ExpectLine(env_front, "back at " + std::to_string(env_back.port()));
  EXPECT_TRUE(env_back.http().Get("/health"));
}

class PerTest : public fixtures::ServerTest {
 protected:
  PerTest() : ServerTest({Http("back"), Front("front", {"back", "env-back"}, "{back.port} {env-back.port}\n")}) {}
};

TEST_F(PerTest, HasItsStackAndTheBinarysServers) {
  EXPECT_EQ(server().name(), "front");
  ASSERT_TRUE(server("back").running());
  ExpectLine(server(), std::to_string(server("back").port()) + " " + std::to_string(env_back.port()));
}

// Run as a child by stack_test.cpp: its report names the kept run directory.
TEST_F(PerTest, DISABLED_FailsOnPurpose) {
  std::ofstream(server().dir() / "evidence.txt") << "what the test left for a person\n";
  ADD_FAILURE() << "failing on purpose";
}

class PerSuite : public fixtures::SuiteServerTest<PerSuite> {
 public:
  static std::vector<fixtures::ServerOptions> Options() {
    return {Front("suite-front", {"suite-back"}, "{suite-back.port}\n"), Http("suite-back")};
  }
};

TEST_F(PerSuite, HasItsStack) {
  EXPECT_EQ(server().name(), "suite-back");  // the last one given
  ExpectLine(server("suite-front"), std::to_string(server().port()));
}
