// The first recipe users reach for: Python's http.server under test.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::Server& web = fixtures::AddServerEnvironment({
    .command = {"python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"},
    .ready = fixtures::OutputMatches(R"(Serving HTTP on \S+ port (\d+))"),
    .startup_timeout = 30s,
    .stop = {.signal = SIGTERM, .grace = 5s},  // then SIGKILL
    // Python block-buffers stdout on a pipe: without this the ready line stays in its buffer.
    .env = {{"PYTHONUNBUFFERED", "1"}},
    .cwd = EXAMPLES_WWW,
    .name = "http.server",
});

TEST(StaticFiles, ListsDirectory) {
  auto res = web.http().Get("/");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->body, testing::HasSubstr("Directory listing"));
  EXPECT_THAT(res->body, testing::HasSubstr("hello.txt"));
}

TEST(StaticFiles, ServesAFileAndA404) {
  auto http = web.http();  // one client, one kept-alive connection for both requests
  auto file = http.Get("/hello.txt");
  ASSERT_TRUE(file) << httplib::to_string(file.error());
  EXPECT_EQ(file->body, "Hello from a static file.\n");
  auto missing = http.Get("/no-such-file");
  ASSERT_TRUE(missing) << httplib::to_string(missing.error());
  EXPECT_EQ(missing->status, 404);
}

// Stops the server itself (any later test would find it stopped): shows how it ended and
// what it logged.
TEST(StaticFiles, StopsOnSigtermAndShowsItsRequestLog) {
  auto res = web.http().Get("/docs/");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  // http.server logs each request on stderr; wait for the line itself.
  web.process().WaitForLine(R"("GET /docs/ HTTP/1\.1" 200)", 30s);

  fixtures::ExitStatus status = web.Stop();
  EXPECT_TRUE(status.signaled());
  EXPECT_EQ(status.signal(), SIGTERM);
  std::printf("http.server %s; its log:\n%s", status.Describe().c_str(),
              fixtures::OutputLog::Format(web.log().Lines(), web.log().start_time()).c_str());
  EXPECT_EQ(status.Describe(), "killed by SIGTERM");
}
