#include "fixtures/output_log.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Texts(const std::vector<Line>& lines) {
  std::vector<std::string> texts;
  for (const auto& line : lines) texts.push_back(line.text);
  return texts;
}

TEST(OutputLog, SplitsLinesAcrossAppendsPerStream) {
  OutputLog log;
  log.Append(Stream::kOut, "hel");
  log.Append(Stream::kErr, "e1\ne");
  log.Append(Stream::kOut, "lo\nworld\n");
  log.Append(Stream::kErr, "2\n");
  auto lines = log.Lines();
  EXPECT_THAT(Texts(lines), ElementsAre("e1", "hello", "world", "e2"));
  EXPECT_EQ(lines[0].stream, Stream::kErr);
  EXPECT_EQ(lines[1].stream, Stream::kOut);
  EXPECT_EQ(lines[3].seq, 3u);
  EXPECT_EQ(log.next_seq(), 4u);
}

TEST(OutputLog, CloseKeepsThePartialLastLine) {
  OutputLog log;
  log.Append(Stream::kOut, "done\nno newline");
  log.Close("exited with code 0");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].text, "no newline");
  EXPECT_FALSE(lines[1].newline);
  EXPECT_TRUE(lines[0].newline);
}

TEST(OutputLog, LongLinesAreCutWithoutLosingBytes) {
  OutputLogOptions options;
  options.max_line_bytes = 10;
  OutputLog log(options);
  log.Append(Stream::kOut, std::string(25, 'a'));
  log.Append(Stream::kOut, "bb\n");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, std::string(10, 'a'));
  EXPECT_FALSE(lines[0].newline);
  EXPECT_FALSE(lines[1].newline);
  EXPECT_EQ(lines[2].text, "aaaaabb");
  EXPECT_TRUE(lines[2].newline);
}

TEST(OutputLog, MemoryIsBoundedAndTheFileKeepsEverything) {
  auto file = std::filesystem::temp_directory_path() / ("fixtures-log-test-" + std::to_string(::getpid()) + ".log");
  OutputLogOptions options;
  options.memory_limit = 64 * 1024;
  options.file = file;
  {
    OutputLog log(options);
    for (int i = 0; i < 10000; ++i) log.Append(Stream::kOut, "line " + std::to_string(i) + "\n");
    auto lines = log.Lines();
    EXPECT_LT(lines.size(), 10000u);
    EXPECT_EQ(lines.back().text, "line 9999");
    EXPECT_EQ(log.dropped_lines() + lines.size(), 10000u);
    EXPECT_EQ(lines.front().seq, log.dropped_lines());
  }
  std::ifstream in(file);
  std::string record;
  int count = 0;
  while (std::getline(in, record)) {
    EXPECT_THAT(record, HasSubstr(" out| line " + std::to_string(count)));
    ++count;
  }
  EXPECT_EQ(count, 10000);
  std::filesystem::remove(file);
}

TEST(OutputLog, WaitSeesLinesAlreadyThere) {
  OutputLog log;
  log.Append(Stream::kErr, "listening on 4242\n");
  auto result = log.WaitForLine(R"(listening on (\d+))", 0s);
  ASSERT_EQ(result.status, WaitForLineResult::Status::kMatched);
  EXPECT_THAT(result.match->groups, ElementsAre("listening on 4242", "4242"));
  EXPECT_EQ(result.match->line.stream, Stream::kErr);
}

TEST(OutputLog, WaitWakesOnTheLineFromAnotherThread) {
  OutputLog log;
  std::thread writer([&] {
    log.Append(Stream::kOut, "noise\n");
    log.Append(Stream::kOut, "ready 1\n");
    log.Append(Stream::kOut, "ready 2\n");
  });
  auto result = log.WaitForLine(R"(ready (\d))", 60s, 0, StreamFilter::kOut, 2);
  writer.join();
  ASSERT_EQ(result.status, WaitForLineResult::Status::kMatched);
  EXPECT_EQ(result.match->groups[1], "2");
}

TEST(OutputLog, WaitFiltersStreams) {
  OutputLog log;
  log.Append(Stream::kOut, "ready\n");
  EXPECT_EQ(log.WaitForLine("ready", 1ms, 0, StreamFilter::kErr).status,
            WaitForLineResult::Status::kTimeout);
  log.Note("ready");  // system lines never satisfy a wait
  EXPECT_EQ(log.WaitForLine("ready", 1ms, 1, StreamFilter::kEither).status,
            WaitForLineResult::Status::kTimeout);
}

TEST(OutputLog, ClientLinesShareTheTimelineButNeverSatisfyAWait) {
  OutputLog log;
  log.ClientNote("tcp#1 > hello");
  log.Append(Stream::kOut, "got hello\n");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].stream, Stream::kClient);
  EXPECT_EQ(StreamName(lines[0].stream), std::string("cli"));
  EXPECT_EQ(log.WaitForLine("tcp#1", 1ms).status, WaitForLineResult::Status::kTimeout);
  EXPECT_THAT(OutputLog::Format(lines, lines[0].time), HasSubstr("+0.000000s cli| tcp#1 > hello\n"));
}

TEST(OutputLog, CloseEndsAWaitAtOnce) {
  OutputLog log;
  std::thread closer([&] { log.Close("exited with code 3"); });
  auto result = log.WaitForLine("never", 3600s);
  closer.join();
  EXPECT_EQ(result.status, WaitForLineResult::Status::kClosed);
  EXPECT_EQ(result.closed_reason, "exited with code 3");
}

TEST(OutputLog, FormatEscapesControlBytesAndInvalidUtf8) {
  OutputLog log;
  log.Append(Stream::kOut, std::string("a\0b\r\xFF \xC3\xA9 \t\n", 11));
  auto text = OutputLog::Format(log.Lines(), log.Lines()[0].time);
  EXPECT_EQ(text, "+0.000000s out| a\\x00b\\x0D\\xFF \xC3\xA9 \t\n");
}

}  // namespace
}  // namespace fixtures
