#include "fixtures/http_client.hpp"

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/server.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::MatchesRegex;

// Before, HttpClient derived from httplib::Client and hid its methods by name: a request made
// through an `httplib::Client&` skipped the recording. Now no such reference can be made.
static_assert(!std::is_base_of_v<httplib::Client, HttpClient>);
static_assert(!std::is_convertible_v<HttpClient&, httplib::Client&>);
static_assert(std::is_move_constructible_v<HttpClient>);

ServerOptions HttpHelper() {
  return {.command = {HTTP_HELPER, "{port}"},
          .ready = OutputMatches("listening on port"),
          .startup_timeout = 60s};
}

std::vector<std::string> ClientLines(const Server& server) {
  std::vector<std::string> lines;
  for (const auto& line : server.log().Lines()) {
    if (line.stream == Stream::kClient) lines.push_back(line.text);
  }
  return lines;
}

// Before, set_logger replaced the logger that recorded the answer: the "-> 200" line was lost.
TEST(HttpClient, UserLoggerIsCalledBesideTheRecording) {
  Server server(HttpHelper());
  server.Start();
  auto client = server.http();
  std::vector<std::string> logged;
  client.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
    logged.push_back(req.method + " " + req.path + " " + std::to_string(res.status));
  });
  auto res = client.Get("/hello");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_THAT(logged, ElementsAre("GET /hello 200"));
  EXPECT_THAT(ClientLines(server),
              ElementsAre("http GET /hello",
                          MatchesRegex(R"(http GET /hello -> 200 \(5 bytes, sent 0 bytes, [0-9.]+ ms\))")));

  client.set_logger(nullptr);  // removes the user's logger, not the recording
  ASSERT_TRUE(client.Get("/again"));
  EXPECT_EQ(logged.size(), 1u);
  EXPECT_EQ(ClientLines(server).size(), 4u);
}

TEST(HttpClient, RecordsEveryMethodWithItsArguments) {
  Server server(HttpHelper());
  server.Start();
  std::vector<std::string> lines;
  HttpClient client(server.base_url(), [&](std::string_view line) { lines.emplace_back(line); });
  client.set_connection_timeout(60s);
  client.set_read_timeout(60s);
  client.set_default_headers({{"X-Test", "1"}});
  httplib::Headers headers{{"X-Other", "2"}};
  std::vector<httplib::Result> results;
  results.push_back(client.Get("/get", headers));
  results.push_back(client.Get("/params", httplib::Params{{"a", "1"}}, headers));
  results.push_back(client.Head("/head"));
  results.push_back(client.Post("/post", "body", "text/plain"));
  results.push_back(client.Put("/put", headers, "put!", "text/plain"));
  results.push_back(client.Patch("/patch", "p", "text/plain"));
  results.push_back(client.Delete("/delete"));
  results.push_back(client.Options("/options"));
  for (const auto& result : results) ASSERT_TRUE(result) << httplib::to_string(result.error());
  // Each request: its start as called, its end as sent (with the query string params make).
  const std::vector<std::pair<std::string, std::string>> sent = {
      {"GET /get", "GET /get"},         {"GET /params", "GET /params\\?a=1"},
      {"HEAD /head", "HEAD /head"},     {"POST /post", "POST /post"},
      {"PUT /put", "PUT /put"},         {"PATCH /patch", "PATCH /patch"},
      {"DELETE /delete", "DELETE /delete"}, {"OPTIONS /options", "OPTIONS /options"}};
  ASSERT_EQ(lines.size(), 2 * sent.size()) << ::testing::PrintToString(lines);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(lines[2 * i], "http " + sent[i].first);
    EXPECT_THAT(lines[2 * i + 1], MatchesRegex("http " + sent[i].second + R"( -> [0-9]+ \(.*ms\))"));
  }
  EXPECT_THAT(lines[7], ::testing::HasSubstr("sent 4 bytes"));  // the POST's body
}

TEST(HttpClient, MovedClientKeepsRecording) {
  Server server(HttpHelper());
  server.Start();
  std::vector<std::string> lines;
  HttpClient first(server.base_url(), [&](std::string_view line) { lines.emplace_back(line); });
  HttpClient moved(std::move(first));
  ASSERT_TRUE(moved.Get("/hello"));
  EXPECT_THAT(lines, ElementsAre("http GET /hello", MatchesRegex(R"(http GET /hello -> 200 .*)")));
}

}  // namespace
}  // namespace fixtures
