// Catch2 (v2) adapter of ServerFixtures::core: when a test case fails, the lines each
// `BinaryServer` wrote during it are printed after its failures, through Catch2's own reporting.
// Copy it with framework_adapter.hpp. In one source file of the test binary:
//
//   #define CATCH_CONFIG_MAIN
//   #include "catch2_fixtures.hpp"
//   using fixtures_catch2::ServerLines;  // the macro takes an unqualified name
//   CATCH_REGISTER_LISTENER(ServerLines)
//   fixtures_adapter::BinaryServer web({.command = {...}, .ready = ...});
//   TEST_CASE("...") { auto res = web.Get().http().Get("/"); ... }
//
// See catch2_test.cpp. Link ServerFixtures::core and Catch2::Catch2 only.
#pragma once

#include <catch2/catch.hpp>

#include <ostream>
#include <string>

#include "framework_adapter.hpp"

namespace fixtures_catch2 {

/// A Catch2 listener: notes each test case's start in the servers' logs; after a failed test
/// case, prints the lines each started server wrote during it (name, times since the test case's
/// start, escaped; the log file's path); after the last test case, stops the servers (printing a
/// stop that did not end as its policy asked). The lines go to the reporter's stream with the
/// console and compact reporters, to stderr with the others (their XML stays well formed).
class ServerLines : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    TestEventListenerBase::testCaseStarting(info);
    fixtures_adapter::BinaryServer::TestCaseStarting(info.name);
  }

  void testCaseEnded(Catch::TestCaseStats const& stats) override {
    if (stats.totals.assertions.failed > 0) {
      Out() << fixtures_adapter::BinaryServer::LinesDuringTestCase(stats.testInfo.name) << std::flush;
    }
    TestEventListenerBase::testCaseEnded(stats);
  }

  void testRunEnded(Catch::TestRunStats const& stats) override {
    Out() << fixtures_adapter::BinaryServer::StopAll() << std::flush;
    TestEventListenerBase::testRunEnded(stats);
  }

 private:
  std::ostream& Out() {
    const auto* config = dynamic_cast<Catch::Config const*>(m_config.get());
    const std::string reporter = config != nullptr ? config->getReporterName() : "console";
    return reporter == "console" || reporter == "compact" ? stream : Catch::cerr();
  }
};

}  // namespace fixtures_catch2
