// One stack, nginx in front of a backend, for all the test processes of a ctest run: with
// fixtures_add_test(shared_stack_test SHARED_SERVER), a setup test starts both servers once
// (the backend first: nginx needs it), every test process attaches to them, and a cleanup test
// stops them (nginx first). Run without ctest, the binary starts its own stack as usual.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

#include "installed.hpp"

const std::string nginx_program = examples::Installed("nginx");

// Registered where nginx is installed; without it, the tests skip (see SetUp).
fixtures::Server* nginx = nginx_program.empty() ? nullptr : &fixtures::AddServerEnvironment({
    .command = {nginx_program, "-p", "{dir}", "-c", "nginx.conf", "-e", "stderr"},
    .ready = fixtures::HttpResponds("/hello"),
    .name = "nginx",
    .needs = {"backend"},  // registered below: the order of the calls does not matter
    .files = {{.path = "nginx.conf", .from = NGINX_CONF_IN}},
});
fixtures::Server* backend = nginx_program.empty() ? nullptr : &fixtures::AddServerEnvironment({
    .command = {BACKEND_SERVER, "--port", "{port}"},
    .ready = fixtures::OutputMatches("backend listening"),
    .name = "backend",
});

class SharedStack : public testing::Test {
 protected:
  void SetUp() override { EXAMPLES_SKIP_UNLESS_INSTALLED("nginx"); }

  // Asks, through nginx, which backend process answers: the one the stack knows, in every
  // test process.
  static void ExpectTheSharedBackendAnswers() {
    auto res = nginx->http().Get("/whoami");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->body, "pid " + std::to_string(backend->pid()));
  }
};

TEST_F(SharedStack, FirstTestProcess) { ExpectTheSharedBackendAnswers(); }
TEST_F(SharedStack, SecondTestProcess) { ExpectTheSharedBackendAnswers(); }
TEST_F(SharedStack, ThirdTestProcess) { ExpectTheSharedBackendAnswers(); }
TEST_F(SharedStack, FourthTestProcess) { ExpectTheSharedBackendAnswers(); }

TEST_F(SharedStack, AttachedUnderCtest) {
  bool under_ctest = std::getenv("FIXTURES_SHARED_DIR") != nullptr;
  EXPECT_EQ(nginx->attached(), under_ctest);
  EXPECT_EQ(backend->attached(), under_ctest);
  auto res = nginx->http().Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "hello from the backend");
}
