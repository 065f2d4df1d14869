// doctest adapter of ServerFixtures::core: when a test case fails, the lines each
// `BinaryServer` wrote during it are printed after its failures, through a doctest listener.
// Copy it with framework_adapter.hpp. In one source file of the test binary:
//
//   #define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
//   #include "doctest_fixtures.hpp"
//   REGISTER_LISTENER("fixtures", 1, fixtures_doctest::ServerLines);
//   fixtures_adapter::BinaryServer web({.command = {...}, .ready = ...});
//   TEST_CASE("...") { auto res = web.Get().http().Get("/"); ... }
//
// See doctest_test.cpp. Link ServerFixtures::core and doctest::doctest only.
#pragma once

#include <doctest/doctest.h>

#include <ostream>

#include "framework_adapter.hpp"

namespace fixtures_doctest {

/// A doctest listener: notes each test case's start in the servers' logs (once, whatever its
/// subcases); after a failed test case, prints the lines each started server wrote during it
/// (name, times since the test case's start, escaped; the log file's path); after the last test
/// case, stops the servers (printing a stop that did not end as its policy asked). Prints on
/// doctest's output stream (stdout, or the file of --out) as its console reporter does, unless
/// --quiet. A listener cannot tell which reporter runs: with --reporters=xml or junit these
/// lines would land in the XML, so register it only in binaries that report to the console.
struct ServerLines : doctest::IReporter {
  explicit ServerLines(const doctest::ContextOptions& options) : options_(options) {}

  void test_case_start(const doctest::TestCaseData& test) override {
    fixtures_adapter::BinaryServer::TestCaseStarting(test.m_name);
    test_ = test.m_name;
  }
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (!stats.testCaseSuccess) Print(fixtures_adapter::BinaryServer::LinesDuringTestCase(test_));
  }
  void test_run_end(const doctest::TestRunStats&) override { Print(fixtures_adapter::BinaryServer::StopAll()); }

  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  void Print(const std::string& text) {
    if (text.empty() || options_.quiet || options_.cout == nullptr) return;
    *options_.cout << text << std::flush;
  }

  const doctest::ContextOptions& options_;
  std::string test_;
};

}  // namespace fixtures_doctest
