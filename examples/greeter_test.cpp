// A suite against our own cpp-httplib server. It binds port 0 and reports the port it got
// through the ready line: the named group "port" hands it to web.port() and web.http().
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::Server& greeter = fixtures::AddServerEnvironment({
    .command = {GREETER_SERVER, "--port", "0"},
    .ready = fixtures::OutputMatches(R"(greeter listening on 127\.0\.0\.1:(?<port>\d+))"),
    .startup_timeout = 30s,
    .stop = {.signal = SIGTERM, .grace = 5s},
});

TEST(Greeter, Greets) {
  auto res = greeter.http().Get("/greet?name=Ada");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "Hello, Ada!");
}

TEST(Greeter, RejectsAMissingName) {
  auto res = greeter.http().Get("/greet");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 400);
}

TEST(Greeter, EchoesBinaryBodies) {
  std::string body("\0\x01\xFFpayload", 10);
  auto res = greeter.http().Post("/echo", body, "application/octet-stream");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, body);
  // The exchange is in the server's log, as the failure report would show it.
  bool recorded = false;
  for (const auto& line : greeter.log().Lines()) {
    recorded |= line.stream == fixtures::Stream::kClient &&
                line.text.starts_with("http POST /echo -> 200 (10 bytes, sent 10 bytes, ");
  }
  EXPECT_TRUE(recorded);
}

TEST(Greeter, LogsEachRequest) {
  auto from = greeter.log().next_seq();
  auto res = greeter.http().Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  auto line = greeter.process().WaitForLine(R"(GET /health -> (\d+))", 30s, from);
  EXPECT_EQ(line.groups[1], "200");
  EXPECT_EQ(line.line.stream, fixtures::Stream::kErr);
}

TEST(Greeter, StopsCleanlyOnSigterm) {
  fixtures::ExitStatus status = greeter.Stop();
  EXPECT_TRUE(status.success()) << status.Describe();
  auto last = greeter.log().Tail(2, fixtures::StreamFilter::kErr);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back().text, "greeter: bye");
}
