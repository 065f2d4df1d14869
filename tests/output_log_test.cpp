#include "fixtures/output_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <future>

#include <clocale>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <locale>
#include <optional>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/process.hpp"
#include "log_record.hpp"  // internal: the reader of log files (a shared server's follower)

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

// Lines in memory are kept in a ring that grows when full: long lines first (few in memory,
// the ring goes round many times), then short ones (many more in memory: it grows while its
// oldest line is anywhere in it). Every line in memory is the right one, in order.
TEST(OutputLog, LinesInMemoryStayInOrderWhileTheRingGoesRoundAndGrows) {
  OutputLogOptions options;
  options.memory_limit = 2 * 1024 * 1024;  // blocks of text count whole (256 KiB each)
  OutputLog log(options);
  int next = 0;
  for (; next < 20000; ++next) log.Append(Stream::kOut, std::to_string(next) + " " + std::string(500, 'x') + "\n");
  for (; next < 60000; ++next) log.Append(Stream::kOut, std::to_string(next) + "\n");
  const auto lines = log.Lines();
  ASSERT_GT(lines.size(), 10000u) << "short lines should fill memory with many more entries";
  EXPECT_GT(log.dropped_lines(), 10000u) << "the long lines should have gone round the ring";
  EXPECT_EQ(log.dropped_lines() + lines.size(), 60000u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::uint64_t seq = log.dropped_lines() + i;
    ASSERT_EQ(lines[i].seq, seq);
    ASSERT_EQ(lines[i].text.substr(0, lines[i].text.find(' ')), std::to_string(seq)) << "line " << i;
  }
  EXPECT_EQ(lines.back().text, "59999");
}

// One append of thousands of lines, cut lines and a partial last line among them: the file
// holds every byte, in order.
TEST(OutputLog, OneChunkOfThousandsOfLinesReachesTheFileWhole) {
  auto file = std::filesystem::temp_directory_path() / ("fixtures-log-chunk-" + std::to_string(::getpid()) + ".log");
  OutputLogOptions options;
  options.file = file;
  options.max_line_bytes = 64;
  std::string chunk;
  for (int i = 0; i < 3000; ++i) chunk += "line " + std::to_string(i) + (i % 500 == 7 ? std::string(150, 'x') : "") + "\n";
  chunk += "partial";
  {
    OutputLog log(options);
    log.Append(Stream::kOut, chunk);
    log.Append(Stream::kErr, "err line\n");
    log.Close("done");
  }
  std::ifstream in(file, std::ios::binary);
  std::string rebuilt_out, rebuilt_err, record;
  int records = 0;
  while (std::getline(in, record)) {
    auto head = detail::ReadLogRecordHead(record);
    ASSERT_TRUE(head.has_value()) << "unreadable record " << records << ": " << record;
    std::string& into = head->stream == Stream::kOut ? rebuilt_out : rebuilt_err;
    into += record.substr(head->text_at);
    if (head->newline) into += '\n';
    ++records;
  }
  EXPECT_GT(records, 3000);
  EXPECT_EQ(rebuilt_out, chunk);
  EXPECT_EQ(rebuilt_err, "err line\n");
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

// A log fed with lines read elsewhere (a shared server's file): each keeps its stream, its
// newline mark and its time (never before the line before it); notes go to the sink, not
// into memory, so they come back in file order like any other line.
TEST(OutputLog, LinesReadElsewhereKeepTheirTimesAndNotesGoToTheSink) {
  const Clock::time_point zero = Clock::now() - 10s;
  std::vector<std::string> notes;
  OutputLog log(OutputLogOptions{.max_line_bytes = 4}, zero,
                OutputLog::NoteSink{"shared.log", [&](Stream stream, std::string_view text, Clock::time_point) {
                                      notes.push_back(std::string(StreamName(stream)) + " " + std::string(text));
                                    }});
  EXPECT_EQ(log.file(), "shared.log");
  EXPECT_EQ(log.start_time(), zero);
  log.AppendLine(Stream::kErr, "part", false, zero + 2s);
  log.AppendLine(Stream::kClient, "http", true, zero + 1s);  // earlier: moved to the line before's
  log.AppendLine(Stream::kOut, "longer", true, zero + 3s);   // cut at max_line_bytes
  log.Note("[ RUN      ] A.B");
  log.ClientNote("http GET /");
  EXPECT_THAT(notes, ElementsAre("sys [ RUN      ] A.B", "cli http GET /"));
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 4u) << OutputLog::Format(lines, zero);
  EXPECT_EQ(OutputLog::Format(lines, zero),
            "+2.000000s err~ part\n+2.000000s cli| http\n+3.000000s out~ long\n+3.000000s out| er\n");
  EXPECT_EQ(log.WaitForLine("^er$", 0s).status, WaitForLineResult::Status::kMatched);
}

// The file is written outside the log's lock: a waiter gets the lines already stored while
// the write of them is blocked (here on a FIFO nobody reads yet, a disk that does not keep
// up), and the file still gets every record, in order.
TEST(OutputLog, AWaiterIsNotHeldBehindTheFileWrite) {
  auto fifo = std::filesystem::temp_directory_path() / ("fixtures-slow-log-" + std::to_string(::getpid()));
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // so the log's open does not block
  ASSERT_GE(reader, 0) << std::strerror(errno);
  std::string flood;
  constexpr int kLines = 100000;  // ~2.5 MB of records: far beyond a pipe's buffer
  for (int i = 0; i < kLines; ++i) flood += "line " + std::to_string(i) + "\n";
  std::string drained;
  std::thread drainer;
  {
    OutputLog log(OutputLogOptions{.file = fifo});
    std::atomic<bool> appended{false};
    std::thread appender([&] {
      log.Append(Stream::kOut, flood);
      appended = true;
    });
    auto waited = std::async(std::launch::async, [&] {
      auto result = log.WaitForLine("^line " + std::to_string(kLines - 1) + "$", 120s);
      return std::make_pair(result.status, appended.load());
    });
    const bool returned = waited.wait_for(120s) == std::future_status::ready;  // bounds a failure only
    EXPECT_TRUE(returned) << "the waiter waited for the file";
    // Drain the FIFO to its end (the log closes it when it goes).
    ::fcntl(reader, F_SETFL, 0);
    drainer = std::thread([&] {
      char buffer[65536];
      ssize_t n;
      while ((n = ::read(reader, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) drained.append(buffer, static_cast<std::size_t>(n));
      }
    });
    auto [status, appended_then] = waited.get();
    EXPECT_EQ(status, WaitForLineResult::Status::kMatched);
    EXPECT_FALSE(appended_then) << "the write could not have ended: nobody read the FIFO yet";
    appender.join();
  }
  drainer.join();
  ::close(reader);
  std::filesystem::remove(fifo);
  std::istringstream records(drained);
  std::string record;
  int count = 0;
  while (std::getline(records, record)) {
    ASSERT_THAT(record, ::testing::EndsWith(" out| line " + std::to_string(count))) << "record " << count;
    ++count;
  }
  EXPECT_EQ(count, kLines);
}

// A waiter whose pattern is slower than the output never catches up; it must still end on a
// stop request (and so at its deadline), not test new lines for as long as they keep coming.
TEST(OutputLog, AWaitEndsOnAStopRequestWhileLinesKeepComing) {
  // The lines in memory at the call are all tested whatever the stop: keep them few, so the
  // test is about the lines that come later. Up to 16 MB of them took 164 s under TSan on a
  // slow machine; 64 KB is 16 lines. And the flood begins once the waiter is on its way.
  OutputLog log(OutputLogOptions{.memory_limit = 64u << 10});
  std::atomic<bool> done{false};
  std::atomic<bool> waiting{false};
  std::atomic<int> appended{0};
  std::thread appender([&] {
    const std::string line = "a" + std::string(4000, 'b') + "\n";  // costly for /a.*b.*c/
    while (!waiting.load()) std::this_thread::yield();
    while (!done.load()) {
      log.Append(Stream::kOut, line);
      appended.fetch_add(1);
    }
  });
  std::stop_source stop;
  auto waiter = std::async(std::launch::async, [&] {
    waiting = true;
    return log.WaitForLine(R"(a.*b.*c)", Clock::duration::max(), 0, StreamFilter::kEither, 1, stop.get_token());
  });
  while (appended.load() < 50) std::this_thread::yield();  // the flood is on
  stop.request_stop();
  const std::future_status ended = waiter.wait_for(120s);  // the flood goes on meanwhile
  done = true;  // then the waiter catches up and ends in any case: the test does not hang
  appender.join();
  EXPECT_EQ(ended, std::future_status::ready) << "the wait ignored the stop request";
  EXPECT_EQ(waiter.get().status, WaitForLineResult::Status::kTimeout);
}

// The consumer (a `LineConsumer`) gets every line once, in seq order, from every appending thread.
TEST(OutputLog, TheConsumerGetsEveryLineOnceInOrder) {
  std::vector<Line> consumed;  // calls never overlap: no lock needed
  const OutputLog* seen_log = nullptr;
  OutputLog log(OutputLogOptions{}, [&](const Line& line, const OutputLog& from) {
    consumed.push_back(line);
    seen_log = &from;
  });
  constexpr int kPerThread = 2000;
  std::thread out([&] {
    for (int i = 0; i < kPerThread; ++i) log.Append(Stream::kOut, "out " + std::to_string(i) + "\nsecond half ");
  });
  std::thread err([&] {
    for (int i = 0; i < kPerThread; ++i) log.Append(Stream::kErr, "err " + std::to_string(i) + "\n");
  });
  for (int i = 0; i < 100; ++i) log.Note("note " + std::to_string(i));
  out.join();
  err.join();
  log.Close("done");  // the partial last line of stdout too
  const auto lines = log.Lines();
  ASSERT_EQ(consumed.size(), lines.size());
  EXPECT_EQ(seen_log, &log);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(consumed[i].seq, i);
    EXPECT_EQ(consumed[i].text, lines[i].text);
    EXPECT_EQ(consumed[i].stream, lines[i].stream);
    EXPECT_EQ(consumed[i].newline, lines[i].newline);
    EXPECT_EQ(consumed[i].time, lines[i].time);
  }
  EXPECT_FALSE(consumed.back().newline) << "the partial line ended by Close";
}

// A log made before its child's spawn (FileLater): what comes before CreateFile waits in
// memory, then reaches the file first and in order; the consumer is called once it is there.
TEST(OutputLog, AFileCreatedLaterGetsTheLinesThatWaitedFirstAndInOrder) {
  auto file = std::filesystem::temp_directory_path() / ("fixtures-log-later-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(file);
  OutputLogOptions options;
  options.file = file;
  std::vector<std::string> consumed;
  std::vector<bool> file_there;  // when each consumer call came
  {
    OutputLog log(options, OutputLog::FileLater{}, Clock::now(), [&](const Line& line, const OutputLog& from) {
      consumed.push_back(line.text);
      file_there.push_back(std::filesystem::exists(from.file()));
    });
    log.Note("before one");
    log.Append(Stream::kOut, "before two\npartial ");
    log.Append(Stream::kErr, "before three\n");
    EXPECT_FALSE(std::filesystem::exists(file)) << "created before CreateFile";
    EXPECT_TRUE(consumed.empty()) << "the consumer was called before the file existed";
    EXPECT_THAT(Texts(log.Lines()), ElementsAre("before one", "before two", "before three"));
    log.CreateFile();
    EXPECT_EQ(consumed.size(), 3u);
    log.Append(Stream::kOut, "after\n");
    log.CreateFile();  // again: nothing, the file is not truncated
    log.Close("done");
  }
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> records;
  for (std::string record; std::getline(in, record);) {
    auto head = detail::ReadLogRecordHead(record);
    ASSERT_TRUE(head.has_value()) << record;
    records.push_back(std::string(StreamName(head->stream)) + " " + record.substr(head->text_at));
  }
  EXPECT_THAT(records, ElementsAre("sys before one", "out before two", "err before three", "out partial after"));
  EXPECT_THAT(consumed, ElementsAre("before one", "before two", "before three", "partial after"));
  for (bool there : file_there) EXPECT_TRUE(there);
  std::filesystem::remove(file);
}

TEST(OutputLog, AFileThatCannotBeCreatedLaterLeavesTheLogInMemory) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-log-nofile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "plain") << "a file, not a directory\n";
  OutputLogOptions options;
  options.file = dir / "plain" / "x.log";
  std::vector<std::string> consumed;
  OutputLog log(options, OutputLog::FileLater{}, Clock::now(),
                [&](const Line& line, const OutputLog&) { consumed.push_back(line.text); });
  log.Append(Stream::kOut, "one\n");
  try {
    log.CreateFile();
    FAIL() << "created a file under a plain file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSystem);
    EXPECT_THAT(e.what(), HasSubstr("cannot create log file " + options.file.string()));
  }
  log.Append(Stream::kOut, "two\n");
  EXPECT_THAT(Texts(log.Lines()), ElementsAre("one", "two"));
  EXPECT_THAT(consumed, ElementsAre("one", "two"));
  EXPECT_NO_THROW(log.CreateFile());  // once only
  std::filesystem::remove_all(dir);
}

TEST(OutputLog, AThrowingConsumerDoesNotStopTheCapture) {
  int calls = 0;
  OutputLog log(OutputLogOptions{}, [&](const Line&, const OutputLog&) {
    ++calls;
    throw std::runtime_error("consumer broke");
  });
  log.Append(Stream::kOut, "one\ntwo\n");
  log.Note("three");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(log.Lines().size(), 3u);
}

TEST(OutputLog, FormatEscapesControlBytesAndInvalidUtf8) {
  OutputLog log;
  log.Append(Stream::kOut, std::string("a\0b\r\xFF \xC3\xA9 \t\n", 11));
  auto text = OutputLog::Format(log.Lines(), log.Lines()[0].time);
  EXPECT_EQ(text, "+0.000000s out| a\\x00b\\x0D\\xFF \xC3\xA9 \t\n");
}

// --- Times in the log file whatever the locale: a test program may call setlocale ---

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes two lines at known times to a new log file; returns its zero.
Clock::time_point WriteTwoLines(const std::filesystem::path& file) {
  OutputLog writer(OutputLogOptions{.file = file});
  const Clock::time_point zero = writer.start_time();
  writer.Append(Stream::kOut, "one\n", zero + 1500ms);
  writer.Append(Stream::kErr, "two\n", zero + 2250ms);
  return zero;
}

// Checks that `file`, as written by WriteTwoLines, reads back with its times and streams.
void ExpectTwoLinesReadBack(const std::filesystem::path& file, Clock::time_point zero) {
  OutputLog follower(OutputLogOptions{}, zero, OutputLog::NoteSink{file, {}});
  const std::string records = ReadWhole(file);
  EXPECT_EQ(detail::AppendLogRecords(follower, records, zero), records.size());
  auto lines = follower.Lines();
  ASSERT_EQ(lines.size(), 2u) << OutputLog::Format(lines, zero);
  EXPECT_EQ(lines[0].text, "one");
  EXPECT_EQ(lines[0].stream, Stream::kOut);
  EXPECT_EQ(lines[1].text, "two");
  EXPECT_EQ(lines[1].stream, Stream::kErr);
  EXPECT_LT(std::chrono::abs(lines[0].time - (zero + 1500ms)), 1ms) << OutputLog::Format(lines, zero);
  EXPECT_LT(std::chrono::abs(lines[1].time - (zero + 2250ms)), 1ms) << OutputLog::Format(lines, zero);
  EXPECT_EQ(OutputLog::Format(lines, zero), "+1.500000s out| one\n+2.250000s err| two\n");
}

// Sets the C locale (all categories) for one scope, then puts back the one there was.
class ScopedCLocale {
 public:
  ScopedCLocale() : saved_(std::setlocale(LC_ALL, nullptr)) {}
  ~ScopedCLocale() { std::setlocale(LC_ALL, saved_.c_str()); }
  bool Set(const std::string& name) { return std::setlocale(LC_ALL, name.c_str()) != nullptr; }
  ScopedCLocale(const ScopedCLocale&) = delete;
  ScopedCLocale& operator=(const ScopedCLocale&) = delete;

 private:
  std::string saved_;
};

// Sets LOCPATH (where glibc's setlocale looks for locales first) for one scope.
class ScopedLocPath {
 public:
  explicit ScopedLocPath(const std::string& dir) {
    if (const char* old = std::getenv("LOCPATH")) saved_ = old;
    ::setenv("LOCPATH", dir.c_str(), 1);
  }
  ~ScopedLocPath() {
    if (saved_) ::setenv("LOCPATH", saved_->c_str(), 1);
    else ::unsetenv("LOCPATH");
  }
  ScopedLocPath(const ScopedLocPath&) = delete;
  ScopedLocPath& operator=(const ScopedLocPath&) = delete;

 private:
  std::optional<std::string> saved_;
};

// Builds de_DE.UTF-8 from the system's locale sources with localedef, which needs no root,
// into a directory of our own; returns the directory, or "" and why not.
std::string BuildGermanLocale(std::string* why) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("fixtures-locales-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  try {
    Process localedef({.command = {"localedef", "-i", "de_DE", "-f", "UTF-8", (dir / "de_DE.UTF-8").string()}});
    auto status = localedef.WaitFor(ScaleTimeout(300s));
    if (!status) {
      *why = "localedef did not finish:\n" + localedef.FormatTail();
      return "";
    }
    // Exit code 1 means warnings only; the locale is then written all the same.
    if (!std::filesystem::exists(dir / "de_DE.UTF-8" / "LC_NUMERIC")) {
      *why = "localedef failed (" + status->Describe() + "):\n" + localedef.FormatTail();
      return "";
    }
  } catch (const Error& e) {
    *why = std::string("cannot run localedef: ") + e.what();
    return "";
  }
  return dir.string();
}

// Under a C locale whose decimal point is a comma (as a test program gets with
// setlocale(LC_ALL, "") and LC_NUMERIC=de_DE.UTF-8), the log file keeps its '.' format, and a
// file written in another locale (another process: a shared server's keeper) reads back.
TEST(OutputLog, FileTimesReadBackUnderACommaDecimalLocale) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto c_file = dir / ("fixtures-locale-c-" + std::to_string(::getpid()) + ".log");
  const auto de_file = dir / ("fixtures-locale-de-" + std::to_string(::getpid()) + ".log");
  const Clock::time_point c_zero = WriteTwoLines(c_file);  // in the "C" locale

  ScopedCLocale locale;
  std::optional<ScopedLocPath> locpath;
  std::string built_in;
  if (!locale.Set("de_DE.UTF-8")) {
    std::string why;
    built_in = BuildGermanLocale(&why);
    if (built_in.empty()) GTEST_SKIP() << "no de_DE.UTF-8 locale installed, and none could be built: " << why;
    locpath.emplace(built_in);
    if (!locale.Set("de_DE.UTF-8")) GTEST_SKIP() << "de_DE.UTF-8 built by localedef in " << built_in << " does not load";
  }
  ASSERT_EQ(std::string(std::localeconv()->decimal_point), ",") << "printf would still write '.'";

  ExpectTwoLinesReadBack(c_file, c_zero);
  const Clock::time_point de_zero = WriteTwoLines(de_file);
  EXPECT_EQ(ReadWhole(de_file), "+1.500000 out| one\n+2.250000 err| two\n");
  ExpectTwoLinesReadBack(de_file, de_zero);

  std::filesystem::remove(c_file);
  std::filesystem::remove(de_file);
  if (!built_in.empty()) std::filesystem::remove_all(built_in);
}

// A comma decimal point and '.' thousands grouping, as a German std::locale has: built here,
// so this runs on every machine, installed locales or not.
struct CommaDecimal : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
  char do_thousands_sep() const override { return '.'; }
  std::string do_grouping() const override { return "\3"; }
};

// The same with a global C++ locale (std::locale::global, which iostreams use) with such
// numbers: the library's own formatting must not go through a stream's locale either.
TEST(OutputLog, FileTimesIgnoreTheGlobalStreamLocale) {
  const auto file = std::filesystem::temp_directory_path() / ("fixtures-locale-stream-" + std::to_string(::getpid()) + ".log");
  std::locale saved = std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
  std::ostringstream probe;
  probe << 1234.5;
  EXPECT_EQ(probe.str(), "1.234,5");  // the locale is in force
  const Clock::time_point zero = WriteTwoLines(file);
  EXPECT_EQ(ReadWhole(file), "+1.500000 out| one\n+2.250000 err| two\n");
  ExpectTwoLinesReadBack(file, zero);
  std::locale::global(saved);
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace fixtures
