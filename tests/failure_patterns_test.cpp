#include "fixtures/failure_patterns.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/error.hpp"

namespace fixtures {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Lines as a log holds them: seq in order, on `stream`.
std::vector<Line> Lines(std::initializer_list<std::pair<Stream, std::string>> texts) {
  std::vector<Line> lines;
  std::uint64_t seq = 0;
  for (const auto& [stream, text] : texts) lines.push_back(Line{seq++, stream, Clock::now(), text, true});
  return lines;
}

std::vector<std::string> Texts(const FailureReport& report) {
  std::vector<std::string> texts;
  for (const auto& line : report.lines) texts.push_back(line.text);
  return texts;
}

constexpr Stream kErr = Stream::kErr;
constexpr Stream kOut = Stream::kOut;

TEST(FailurePatterns, AsanReportIsKeptWholeAndEndsAtItsSummary) {
  auto lines = Lines({{kOut, "GET /overflow"},
                      {kErr, "================================================================="},
                      {kErr, "==9663==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6030"},
                      {kErr, "WRITE of size 4 at 0x603000000060 thread T0"},
                      {kOut, "an unrelated stdout line in between"},
                      {kErr, "    #0 0x55ba1190378e in main /tmp/x/t.cpp:5"},
                      {kErr, "SUMMARY: AddressSanitizer: heap-buffer-overflow /tmp/x/t.cpp:5 in main"},
                      {kErr, "Shadow bytes around the buggy address:"}});
  auto reports = FailurePatterns().Scan(lines);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pattern, "AddressSanitizer");
  EXPECT_TRUE(reports[0].complete);
  EXPECT_THAT(Texts(reports[0]),
              ElementsAre(HasSubstr("ERROR: AddressSanitizer: heap-buffer-overflow"), HasSubstr("WRITE of size 4"),
                          HasSubstr("#0 0x55ba1190378e"), HasSubstr("SUMMARY: AddressSanitizer")));
  EXPECT_THAT(reports[0].Format(Clock::now()), HasSubstr("AddressSanitizer report (4 lines):\n"));
}

TEST(FailurePatterns, EachDefaultKind) {
  auto lines = Lines({
      {kErr, "==9677==ERROR: LeakSanitizer: detected memory leaks"},
      {kErr, "Direct leak of 100 byte(s) in 1 object(s) allocated from:"},
      {kErr, "SUMMARY: AddressSanitizer: 100 byte(s) leaked in 1 allocation(s)."},
      {kErr, "WARNING: ThreadSanitizer: data race (pid=9692)"},
      {kErr, "SUMMARY: ThreadSanitizer: data race /tmp/x/t.cpp:8 in operator()"},
      {kErr, "t.cpp:7:73: runtime error: signed integer overflow: 2147483647 + 1"},
      {kErr, "    #0 0x4011 in main t.cpp:7"},
      {kErr, "an ordinary line"},
      {kErr, "terminate called after throwing an instance of 'std::runtime_error'"},
      {kErr, "  what():  boom"},
      {kErr, "free(): double free detected in tcache 2"},
      {kErr, "*** stack smashing detected ***: terminated"},
      {kErr, "==12==WARNING: MemorySanitizer: use-of-uninitialized-value"},
      {kErr, "SUMMARY: MemorySanitizer: use-of-uninitialized-value t.cpp:3 in main"},
  });
  auto reports = FailurePatterns().Scan(lines);
  std::vector<std::string> names;
  for (const auto& r : reports) names.push_back(r.pattern + ":" + std::to_string(r.lines.size()));
  EXPECT_THAT(names, ElementsAre("LeakSanitizer:3", "ThreadSanitizer:2", "UndefinedBehaviorSanitizer:2",
                                 "terminate:2", "glibc:1", "glibc:1", "MemorySanitizer:2"));
}

TEST(FailurePatterns, OrdinaryOutputIsNotAReport) {
  auto lines = Lines({{kOut, "listening on port 8080"},
                      {kErr, "GET /runtime -> 200"},
                      {kErr, "warning: AddressSanitizer is mentioned in this sentence"},
                      {kErr, "the word terminate called out mid-line"}});
  EXPECT_TRUE(FailurePatterns().Scan(lines).empty());
  EXPECT_TRUE(FailurePatterns::None().Scan(Lines({{kErr, "==1==ERROR: AddressSanitizer: x"}})).empty());
}

TEST(FailurePatterns, AReportWithoutItsEndYetIsIncomplete) {
  auto reports = FailurePatterns().Scan(Lines({{kErr, "==5==ERROR: AddressSanitizer: SEGV on unknown address"},
                                               {kErr, "    #0 0x1 in f"}}));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].complete);
  EXPECT_EQ(reports[0].lines.size(), 2u);
  EXPECT_THAT(reports[0].Format(Clock::now()), HasSubstr("(2 lines, incomplete)"));
}

TEST(FailurePatterns, AddAndRemove) {
  auto patterns = FailurePatterns().Remove("terminate").Add(
      {.name = "panic", .start = "^panic: ", .more = Pattern("^goroutine |^\\t"), .max_lines = 10});
  auto reports = patterns.Scan(Lines({{kErr, "terminate called after throwing"},
                                      {kErr, "panic: runtime error: index out of range"},
                                      {kErr, "goroutine 1 [running]:"},
                                      {kErr, "\tmain.main()"},
                                      {kErr, "exit status 2"}}));
  // "runtime error:" in the panic line is UBSan's pattern too: the first pattern in order wins
  // for a line, and the user's comes last, so remove UBSan's when it gets in the way.
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pattern, "UndefinedBehaviorSanitizer");
  patterns.Remove("UndefinedBehaviorSanitizer");
  reports = patterns.Scan(Lines({{kErr, "panic: runtime error: index out of range"},
                                 {kErr, "goroutine 1 [running]:"},
                                 {kErr, "\tmain.main()"},
                                 {kErr, "exit status 2"}}));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pattern, "panic");
  EXPECT_EQ(reports[0].lines.size(), 3u);

  try {
    patterns.Remove("AdressSanitizer");
    FAIL() << "a typo must not be ignored";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_THAT(e.what(), HasSubstr("no failure pattern named 'AdressSanitizer' to remove (there are: "
                                    "AddressSanitizer, LeakSanitizer"));
  }
  EXPECT_THROW(patterns.Add({.name = "panic", .start = "x"}), Error);
}

TEST(FailurePatterns, APatternWithABackReferenceWorksBesideTheDefaults) {
  auto patterns = FailurePatterns().Add({.name = "twice", .start = R"(^fatal: (\w+) \1 twice)"});
  auto reports = patterns.Scan(Lines({{kErr, "fatal: foo foo twice"}, {kErr, "fatal: foo bar twice"}}));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].pattern, "twice");
  EXPECT_EQ(reports[0].lines[0].text, "fatal: foo foo twice");
}

TEST(FailurePatterns, ACutReportStopsAtMaxLines) {
  std::vector<Line> lines = Lines({{kErr, "WARNING: ThreadSanitizer: data race"}});
  for (int i = 0; i < 500; ++i) lines.push_back(Line{lines.size(), kErr, Clock::now(), "    #1 frame", true});
  auto reports = FailurePatterns().Scan(lines);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].lines.size(), 200u);
  EXPECT_FALSE(reports[0].complete);
}

}  // namespace
}  // namespace fixtures
