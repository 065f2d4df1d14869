// One passing test and one failing on purpose, against Python's http.server.
#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::Server& web = fixtures::AddServerEnvironment({
    .command = {"python3", "-u", "-m", "http.server", "{port}", "--bind", "127.0.0.1"},
    .ready = fixtures::OutputMatches("Serving HTTP"),
    .startup_timeout = 30s,
    .name = "web",
});

TEST(Web, ListsDirectory) {
  auto res = web.http().Get("/");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

TEST(Web, FailsOnPurpose) {
  auto res = web.http().Get("/missing");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << "fails on purpose: run.cmake looks for this test's log";
}
