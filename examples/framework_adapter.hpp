// What the Catch2 and doctest adapters (catch2_fixtures.hpp, doctest_fixtures.hpp) share, with
// no test framework in it: a server for a whole test binary, started by the first test case that
// uses it, and the lines it wrote during a test case, formatted like the gtest glue's report.
// Built on ServerFixtures::core only; copy it along with the adapter of your framework.
#pragma once

#include <fixtures/core.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fixtures_adapter {

/// A server for every test case of a test binary: declare it at namespace scope. The first test
/// case that calls `Get` starts it; the adapter's listener notes each test case's start in its
/// log, prints its lines of a failed test case, and stops it after the last test case (else its
/// destructor does, with the options' stop policy).
///
/// For the thread that runs the test cases only (Catch2 and doctest run them on one thread).
class BinaryServer {
 public:
  explicit BinaryServer(fixtures::ServerOptions options) : server_(std::move(options)) { All().push_back(this); }
  ~BinaryServer() { std::erase(All(), this); }
  BinaryServer(const BinaryServer&) = delete;
  BinaryServer& operator=(const BinaryServer&) = delete;

  /// The server, started. Starts it at the first call and waits until it is ready (a test case
  /// that calls `Stop` on it leaves it stopped for the next ones); throws what
  /// `fixtures::Server::Start` throws, then and at every later call (each test case that needs
  /// the server fails with the diagnosis). Throws `std::runtime_error` once it has exited without
  /// `Stop` (a crash): the test cases after it fail saying so.
  fixtures::Server& Get() {
    if (start_failure_) std::rethrow_exception(start_failure_);
    if (server_.runs() == 0) {
      try {
        server_.Start();
      } catch (...) {
        start_failure_ = std::current_exception();
        throw;
      }
    }
    if (auto exit = server_.unexpected_exit()) {
      throw std::runtime_error("server '" + server_.name() + "' " + exit->Describe() +
                               " without Stop, so this test case cannot use it (full log: " +
                               server_.log().file().string() + "):\n" + server_.process().FormatTail(20));
    }
    return server_;
  }
  /// The server, whether started or not.
  fixtures::Server& server() noexcept { return server_; }

  /// For the listener, at each test case's start: notes it in the log of every started server
  /// and remembers where the test case's lines begin.
  static void TestCaseStarting(std::string_view test_case) {
    for (BinaryServer* watched : All()) {
      watched->test_start_ = fixtures::Clock::now();
      watched->run_at_start_ = watched->server_.runs();
      fixtures::OutputLog* log = watched->Log();
      if (log == nullptr) continue;
      log->Note("test case \"" + std::string(test_case) + "\" starts");
      watched->from_seq_ = log->next_seq();
    }
  }

  /// For the listener, when a test case failed: for every server started (not one whose start
  /// failed, nor one that ended before and wrote nothing since), the lines it wrote since the
  /// test case's start (all of the current run if it started during the test case),
  /// times since that start, escaped, with the path of the full log file; the last
  /// `max_lines`, the others left to the file.
  static std::string LinesDuringTestCase(std::string_view test_case, std::size_t max_lines = 200) {
    std::string text;
    for (BinaryServer* watched : All()) {
      fixtures::Server& server = watched->server_;
      const fixtures::OutputLog* log_of_run = watched->Log();
      // A failed start: its error, which the test case got, has the lines.
      if (watched->start_failure_ || log_of_run == nullptr) continue;
      const fixtures::OutputLog& log = *log_of_run;
      // What it wrote just before the test case ended may still be in its pipes.
      if (!server.attached() && server.running()) server.process().SettleOutput(std::chrono::seconds(1));
      const std::uint64_t from = server.runs() == watched->run_at_start_ ? watched->from_seq_ : 0;
      std::vector<fixtures::Line> lines = log.Lines(from);
      if (lines.empty() && !server.running()) continue;  // ended before: `Get` says so
      // Dropped from memory (OutputLogOptions::memory_limit) or cut here: in the file only.
      const std::uint64_t missing = (lines.empty() ? log.next_seq() : lines.front().seq) - from;
      const std::size_t cut = lines.size() - std::min(lines.size(), max_lines);
      lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(cut));
      text += "[ fixtures ] server '" + server.name() + "': " + std::to_string(missing + cut + lines.size()) +
              " lines during test case \"" + std::string(test_case) +
              "\", times since the test case's start (full log: " + log.file().string() + ")" +
              (lines.empty() && missing + cut == 0 ? "\n" : ":\n");
      if (missing + cut > 0) {
        text += "    [... " + std::to_string(missing + cut) + " earlier lines: see the log file]\n";
      }
      std::string formatted = fixtures::OutputLog::Format(lines, watched->test_start_);
      for (std::size_t begin = 0; begin < formatted.size();) {
        const std::size_t end = std::min(formatted.find('\n', begin), formatted.size());
        text += "    " + formatted.substr(begin, end - begin) + "\n";
        begin = end + 1;
      }
      if (auto exit = server.unexpected_exit()) {
        text += "    server '" + server.name() + "' " + exit->Describe() + " without Stop\n";
      }
    }
    return text;
  }

  /// For the listener, after the last test case: stops every started server, latest declared
  /// first; returns a line for each stop that did not end as its policy asked (a crash, an exit
  /// code not accepted), "" when all went well. Never throws for a server's outcome.
  static std::string StopAll() {
    std::string text;
    for (auto it = All().rbegin(); it != All().rend(); ++it) {
      fixtures::Server& server = (*it)->server_;
      if ((*it)->start_failure_ || (*it)->Log() == nullptr) continue;  // a failed start stopped it
      try {
        server.Stop();
      } catch (const fixtures::Error& e) {
        text += "[ fixtures ] server '" + server.name() + "': " + e.what() + "\n";
        continue;
      }
      if (auto stop = server.last_stop(); stop && !stop->expected()) {
        text += "[ fixtures ] server '" + server.name() + "' " + stop->Describe("at the end of the test run") +
                " (full log: " + server.log().file().string() + ")\n";
      }
    }
    return text;
  }

 private:
  // The log of the current run; null before the first start and after a start that failed
  // before it had a process (a missing executable).
  fixtures::OutputLog* Log() noexcept {
    if (server_.runs() == 0) return nullptr;
    try {
      return &server_.log();
    } catch (const fixtures::Error&) {
      return nullptr;
    }
  }
  static std::vector<BinaryServer*>& All() {
    static std::vector<BinaryServer*> all;
    return all;
  }

  fixtures::Server server_;
  std::exception_ptr start_failure_{};
  fixtures::Clock::time_point test_start_{};
  int run_at_start_ = 0;
  std::uint64_t from_seq_ = 0;
};

}  // namespace fixtures_adapter
