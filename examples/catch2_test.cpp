// Catch2 (v2) with ServerFixtures::core alone, no GoogleTest: our greeter (greeter_server.cpp)
// under test, through the adapter catch2_fixtures.hpp. A failed test case shows the lines the
// server wrote during it, after Catch2's own failure messages.
//
// Scope: one greeter for the whole test binary, started by the first test case that uses it and
// stopped after the last (ctest runs the binary as one test: see CMakeLists.txt). A start costs
// more than a test case here, and each failure report holds only the lines of its own test case
// whatever ran before. A test case that needs a fresh server makes a `fixtures::Server` of its
// own (its destructor stops it).
#define CATCH_CONFIG_MAIN
#include "catch2_fixtures.hpp"

#include <signal.h>

#include <string>

using namespace std::chrono_literals;

using fixtures_catch2::ServerLines;  // CATCH_REGISTER_LISTENER takes an unqualified name
CATCH_REGISTER_LISTENER(ServerLines)

fixtures_adapter::BinaryServer greeter({
    .command = {GREETER_SERVER, "--port", "0"},
    .ready = fixtures::OutputMatches(R"(greeter listening on 127\.0\.0\.1:(?<port>\d+))"),
    .startup_timeout = 30s,
    .stop = {.signal = SIGTERM, .grace = 5s},
});

TEST_CASE("greeter greets by name", "[greeter]") {
  auto res = greeter.Get().http().Get("/greet?name=Ada");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "Hello, Ada!");
}

TEST_CASE("greeter rejects a missing name", "[greeter]") {
  auto res = greeter.Get().http().Get("/greet");
  REQUIRE(res);
  CHECK(res->status == 400);
}

TEST_CASE("greeter logs each request", "[greeter]") {
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

// Hidden ("[.]": not run unless named): fails on purpose, for other_frameworks_check.cpp, which
// runs it after "greeter greets by name" and checks that the failure output shows this test
// case's server lines (a control byte escaped) and not those of the test case before it.
TEST_CASE("greeter fails on purpose", "[.][fails_on_purpose]") {
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

// Hidden: the greeter dies during it (the test sends SIGKILL); a test case after it that needs
// the greeter fails at `Get`, naming how it ended (other_frameworks_check.cpp runs the two).
TEST_CASE("greeter crashes on purpose", "[.][crashes_on_purpose]") {
  fixtures::Server& server = greeter.Get();
  REQUIRE(::kill(server.pid(), SIGKILL) == 0);
  CHECK(server.WaitForExit(30s).has_value());
}

// ServerFixtures::core only: nothing included above may bring GoogleTest in.
#ifdef GOOGLETEST_INCLUDE_GTEST_GTEST_H_
#error "<gtest/gtest.h> was included: this example uses ServerFixtures::core alone"
#endif
