// One server for many test processes. ctest runs each test of this binary in a process of its
// own (gtest_discover_tests); with fixtures_add_test(shared_server_test SHARED_SERVER), a setup
// test starts the greeter once, every test process attaches to it, and a cleanup test stops
// it. The same source, run without ctest, starts its own server as usual.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::Server& greeter = fixtures::AddServerEnvironment({
    .command = {GREETER_SERVER, "--port", "0"},
    .ready = fixtures::OutputMatches(R"(greeter listening on 127\.0\.0\.1:(?<port>\d+))"),
    .startup_timeout = 30s,
    .stop = {.signal = SIGTERM, .grace = 5s},
    .name = "shared-greeter",
});

void ExpectGreeting(const std::string& name) {
  auto res = greeter.http().Get("/greet?name=" + name);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "Hello, " + name + "!");
}

TEST(SharedGreeter, GreetsAda) { ExpectGreeting("Ada"); }
TEST(SharedGreeter, GreetsGrace) { ExpectGreeting("Grace"); }
TEST(SharedGreeter, GreetsBarbara) { ExpectGreeting("Barbara"); }
TEST(SharedGreeter, GreetsFrances) { ExpectGreeting("Frances"); }
TEST(SharedGreeter, GreetsKaren) { ExpectGreeting("Karen"); }

// The answer comes from the process the fixture knows: under ctest the shared one, which is
// not a child of this test process.
TEST(SharedGreeter, AnswersFromTheServerWeKnow) {
  auto res = greeter.http().Get("/whoami");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "pid " + std::to_string(greeter.pid()));
  EXPECT_EQ(greeter.attached(), std::getenv("FIXTURES_SHARED_DIR") != nullptr);
}
