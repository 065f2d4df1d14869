// doctest with ServerFixtures::core alone, no GoogleTest: our greeter (greeter_server.cpp)
// under test, through the adapter doctest_fixtures.hpp. A failed test case shows the lines the
// server wrote during it, after doctest's own failure messages.
//
// Scope: one greeter for the whole test binary, started by the first test case that uses it and
// stopped after the last (ctest runs the binary as one test: see CMakeLists.txt). A start costs
// more than a test case here, and each failure report holds only the lines of its own test case
// whatever ran before. A test case that needs a fresh server makes a `fixtures::Server` of its
// own (its destructor stops it).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "doctest_fixtures.hpp"

#include <string>

using namespace std::chrono_literals;

REGISTER_LISTENER("fixtures", 1, fixtures_doctest::ServerLines);

fixtures_adapter::BinaryServer greeter({
    .command = {GREETER_SERVER, "--port", "0"},
    .ready = fixtures::OutputMatches(R"(greeter listening on 127\.0\.0\.1:(?<port>\d+))"),
    .startup_timeout = 30s,
    .stop = {.signal = SIGTERM, .grace = 5s},
});

TEST_SUITE("greeter") {
  TEST_CASE("greeter greets by name") {
    auto res = greeter.Get().http().Get("/greet?name=Ada");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "Hello, Ada!");
  }

  TEST_CASE("greeter answers each request on the same connection") {
    auto http = greeter.Get().http();  // one client, one kept-alive connection
    for (const std::string name : {"Grace", "Barbara"}) {
      auto res = http.Get("/greet?name=" + name);
      REQUIRE(res);
      CHECK(res->body == "Hello, " + name + "!");
    }
    auto missing = http.Get("/greet");
    REQUIRE(missing);
    CHECK(missing->status == 400);
  }

  TEST_CASE("greeter logs each request") {
    fixtures::Server& server = greeter.Get();
    auto from = server.log().next_seq();
    auto res = server.http().Post("/echo", std::string("\0\x01payload", 9), "application/octet-stream");
    REQUIRE(res);
    CHECK(res->body.size() == 9);
    auto line = server.process().WaitForLine(R"(POST /echo -> (\d+) \((\d+) bytes\))", 30s, from);
    CHECK(line.groups[1] == "200");
    CHECK(line.groups[2] == "9");
    CHECK(line.line.stream == fixtures::Stream::kErr);
  }

  // Skipped (doctest::skip(): run only with --no-skip): fails on purpose, for
  // other_frameworks_check.cpp, which runs it after "greeter greets by name" and checks that
  // the failure output shows this test case's server lines (a control byte escaped) and not
  // those of the test case before it.
  TEST_CASE("greeter fails on purpose" * doctest::skip()) {
    fixtures::Server& server = greeter.Get();
    auto http = server.http();
    auto res = http.Get("/greet?name=Margaret");
    REQUIRE(res);
    auto missing = http.Get("/no%01such");  // the greeter logs the decoded path: a raw 0x01 byte
    REQUIRE(missing);
    // The greeter logs a request after answering it: wait for the line, so that the report has it.
    server.process().WaitForLine(R"(^GET /no\x01such -> 404)", 30s);
    CHECK(res->body == "Hello, Margaret?");  // fails: the greeter says "Hello, Margaret!"
  }
}

// ServerFixtures::core only: nothing included above may bring GoogleTest in.
#ifdef GOOGLETEST_INCLUDE_GTEST_GTEST_H_
#error "<gtest/gtest.h> was included: this example uses ServerFixtures::core alone"
#endif
