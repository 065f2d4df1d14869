#include "fixtures/interactive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

InteractiveOptions Repl(bool pty = false) {
  return {.command = {FIXTURES_HELPER, "repl"}, .pty = pty, .timeout = 60s};
}

std::vector<std::string> ClientLines(const OutputLog& log) {
  std::vector<std::string> lines;
  for (const Line& line : log.Lines()) {
    if (line.stream == Stream::kClient) lines.push_back(line.text);
  }
  return lines;
}

std::string FileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(Interactive, PromptWithoutNewlineAndAnswers) {
  Interactive repl(Repl());
  repl.Expect(R"(^> \z)");
  repl.SendLine("echo hello world");
  // The answer follows the consumed prompt on its line: "^" would not match there, "\A" (the
  // start of the unread bytes) does.
  EXPECT_THAT(repl.Expect(R"(\Ahello (\w+)\n)"), ElementsAre("hello world\n", "world"));
  repl.Expect(R"(^> \z)");
  repl.SendLine("exit 7");
  EXPECT_EQ(repl.ExpectEof().Describe(), "exited with code 7");
}

TEST(Interactive, SendEofEndsTheProgram) {
  Interactive repl(Repl());
  repl.Expect("> ");
  repl.SendEof();
  repl.Expect("bye\n");
  EXPECT_TRUE(repl.ExpectEof().success());
}

TEST(Interactive, TranscriptIsOneTimelineInTheLog) {
  Interactive repl(Repl());
  repl.Expect("> ");
  repl.SendLine("echo first");
  repl.Expect("first\n");
  repl.SendLine("echo second");
  repl.Expect("second\n");
  repl.SendEof();
  repl.Expect("bye\n");
  repl.ExpectEof();
  std::vector<std::string> story;
  for (const auto& line : repl.log().Lines()) {
    if (line.stream == Stream::kClient || line.stream == Stream::kOut) {
      story.push_back(std::string(StreamName(line.stream)) + " " + line.text);
    }
  }
  EXPECT_THAT(story, ElementsAre(R"(cli stdin> echo first\x0A)", "out > first", R"(cli stdin> echo second\x0A)",
                                 "out > second", "cli stdin closed", "out > bye"));
}

TEST(Interactive, ExpectTimeoutSaysWhatArrivedAndSuggestsPty) {
  Interactive repl(Repl());
  repl.Expect("> ");
  repl.SendLine("echo partial answer");
  repl.Expect("partial");
  try {
    repl.Expect("never", 200ms);
    FAIL() << "matched";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
    std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("repl`: timed out after 200ms waiting for /never/"));
    EXPECT_THAT(what, HasSubstr(R"(received and not consumed (10 bytes): " answer\x0A> ")"));
    EXPECT_THAT(what, HasSubstr("try InteractiveOptions::pty = true"));
  }
}

TEST(Interactive, ExpectFailsAtOnceWhenTheProgramEnds) {
  InteractiveOptions options = Repl();
  options.log.file = std::filesystem::temp_directory_path() /
                     ("fixtures-interactive-" + std::to_string(::getpid()) + ".log");
  Interactive repl(options);
  repl.Expect("> ");
  repl.SendLine("exit 3");
  auto begin = Clock::now();
  try {
    repl.Expect("never", 600s);
    FAIL() << "matched";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExited);
    EXPECT_THAT(e.what(), HasSubstr("the program exited with code 3 before /never/ came"));
    ASSERT_TRUE(e.exit_status());
    EXPECT_EQ(e.exit_status()->Describe(), "exited with code 3");
    EXPECT_EQ(e.log_file(), options.log.file);
  }
  EXPECT_LT(Clock::now() - begin, 60s);
  try {
    repl.SendLine("echo too late");
    FAIL() << "sent";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExited);
    EXPECT_THAT(e.what(), HasSubstr("exited with code 3"));
    ASSERT_TRUE(e.exit_status());
    EXPECT_EQ(e.exit_status()->Describe(), "exited with code 3");
    EXPECT_EQ(e.log_file(), options.log.file);
  }
  std::filesystem::remove(options.log.file);
}

TEST(Interactive, ExpectEofWantsNothingUnread) {
  Interactive repl(Repl());
  repl.SendLine("echo last words");
  repl.SendEof();
  try {
    repl.ExpectEof();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnexpectedData);
    EXPECT_THAT(e.what(), HasSubstr("waited for the program to end its output and exit, but data came"));
  }
  EXPECT_EQ(repl.ReadUntil("> "), "> ");  // the data stay unread
  EXPECT_EQ(repl.ReadLine(), "last words");
  EXPECT_EQ(repl.ReadExactly(6), "> bye\n");
  EXPECT_EQ(repl.unread(), "");
  EXPECT_TRUE(repl.ExpectEof().success());
}

TEST(Interactive, ReadToEofReturnsTheLastWordsAndWaitsForTheExit) {
  Interactive repl(Repl());
  repl.SendLine("echo last words");
  repl.SendEof();
  std::string rest = repl.ReadToEof();
  EXPECT_THAT(rest, HasSubstr("last words\n"));
  EXPECT_THAT(rest, HasSubstr("bye\n"));
  EXPECT_EQ(repl.unread(), "");
  ASSERT_TRUE(repl.process().exit_status());  // the end of the stream is the exit
  EXPECT_TRUE(repl.process().exit_status()->success());
  EXPECT_TRUE(repl.ExpectEof().success());  // still the end, nothing unread
}

TEST(Interactive, SendAfterSendEofIsAWrongState) {
  Interactive repl(Repl());
  repl.SendEof();
  try {
    repl.SendLine("echo too late");
    FAIL() << "sent";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kWrongState);
    EXPECT_THAT(e.what(), HasSubstr("its stdin was closed (SendEof)"));
  }
}

// The acceptance test for pty mode: a program whose stdout is block-buffered on a pipe (C
// stdio's default; PYTHONUNBUFFERED cannot help a C program) is seen at once on a terminal.
TEST(Interactive, PtyModeIsNeededAndWorks) {
  Interactive piped({.command = {FIXTURES_HELPER, "stdio-buffered"}, .timeout = 60s});
  try {
    piped.Expect("hello from stdio", 500ms);
    FAIL() << "seen without a terminal: the helper did not buffer";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
    EXPECT_THAT(e.what(), HasSubstr("pty = true"));
  }
  piped.SendEof();  // at exit stdio flushes: the line was only held back
  piped.Expect("hello from stdio\n");
  EXPECT_TRUE(piped.ExpectEof().success());

  Interactive on_pty({.command = {FIXTURES_HELPER, "stdio-buffered"}, .pty = true, .timeout = 60s});
  on_pty.Expect("hello from stdio\n");  // no newline translation: "\n", not "\r\n"
  on_pty.SendEof();
  EXPECT_TRUE(on_pty.ExpectEof().success());
}

TEST(Interactive, PtyRepl) {
  Interactive repl(Repl(true));
  repl.Expect(R"(^> \z)");
  repl.SendLine("echo on a terminal");
  repl.Expect("on a terminal\n");
  repl.Expect(R"(^> \z)");
  repl.SendLine("exit 0");
  EXPECT_TRUE(repl.ExpectEof().success());
}

TEST(Interactive, StdinErrors) {
  Process no_stdin({.command = {FIXTURES_HELPER, "print-ready", "up"}});
  try {
    no_stdin.WriteStdin("x", 1s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_THAT(e.what(), HasSubstr("stdin_pipe"));
  }
}

TEST(Interactive, ErrorsNameARealLogFileByDefault) {
  Interactive repl(Repl());
  repl.Expect("> ");
  repl.SendLine("exit 3");
  try {
    repl.Expect("never", 600s);
    FAIL() << "matched";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExited);
    ASSERT_FALSE(e.log_file().empty());
    EXPECT_EQ(e.log_file(), repl.log().file());
    EXPECT_EQ(e.log_file().parent_path(), DefaultLogDirectory());
    EXPECT_THAT(FileText(e.log_file()), HasSubstr(R"(cli| stdin> exit 3\x0A)"));
  }
}

// Bound to a timeline (a server's log), an Interactive records there what it sends and what
// it receives, line by line, in order, named after the program: so a failed test's report
// shows the SQL sent and the rows or the error that came back.
TEST(Interactive, RecordsItsExchangeInATimeline) {
  OutputLog timeline;
  timeline.Note("server up");
  Interactive sql({.command = {"/bin/sh", "-c",
                               "printf 'sql> '; read -r a; printf '1\t%s\n' \"$a\"; read -r b; "
                               "echo \"ERROR 1064: near '$b'\" >&2; read -r c; printf 'bye'",
                               "sh"},
                   .name = "mysql",
                   .timeout = 60s,
                   .timeline = &timeline});
  sql.Expect(R"(^sql> \z)");
  EXPECT_THAT(ClientLines(timeline), ElementsAre());  // a prompt waits for what follows it
  sql.SendLine("SELECT 1;");
  EXPECT_EQ(sql.ReadLine(), "1\tSELECT 1;");
  // Recorded as it arrives, before the read sees it: there when the read returns.
  EXPECT_THAT(ClientLines(timeline), ElementsAre("mysql< sql> ", "mysql> SELECT 1;", "mysql< 1\tSELECT 1;"));
  sql.SendLine("SELEKT");
  sql.Expect("ERROR 1064: near 'SELEKT'\n");  // on stderr
  sql.SendEof();
  EXPECT_EQ(sql.ReadToEof(), "bye");
  EXPECT_THAT(ClientLines(timeline),
              ElementsAre("mysql< sql> ", "mysql> SELECT 1;", "mysql< 1\tSELECT 1;", "mysql> SELEKT",
                          "mysql< ERROR 1064: near 'SELEKT'", "mysql: stdin closed", "mysql< bye"));
  std::vector<Line> lines = timeline.Lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front().text, "server up");
  // Its own log still has every byte, the sent ones as "stdin>" client lines.
  EXPECT_THAT(FileText(sql.log().file()), HasSubstr(R"(cli| stdin> SELECT 1;\x0A)"));
}

// Each stream's lines are recorded whole, however the two interleave: a line that stdout
// ends after a line of stderr comes after it, in one piece.
TEST(Interactive, TimelineLinesAreWholePerStream) {
  const std::filesystem::path fifo =
      std::filesystem::temp_directory_path() / ("fixtures-timeline-" + std::to_string(::getpid()) + ".fifo");
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Open read-write, so neither this open nor the shell's opens to read ever block; the shell
  // reads one "go" line from it at each step.
  int go = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(go, 0);
  OutputLog timeline;
  Interactive program({.command = {"/bin/sh", "-c",
                                   "printf 'par'; read -r go < \"$1\"; echo 'err line' >&2; "
                                   "read -r go < \"$1\"; printf 'tial\n'",
                                   "sh", fifo.string()},
                       .name = "two",
                       .timeout = 60s,
                       .timeline = &timeline});
  program.Expect("par");
  ASSERT_EQ(::write(go, "go\n", 3), 3);
  program.Expect("err line\n");
  ASSERT_EQ(::write(go, "go\n", 3), 3);
  program.Expect("tial\n");
  EXPECT_TRUE(program.ExpectEof().success());
  EXPECT_THAT(ClientLines(timeline), ElementsAre("two< err line", "two< partial"));
  ::close(go);
  std::filesystem::remove(fifo);
}

// A long line is cut in the timeline (the program's own log has it whole); "\r\n" lines are
// recorded as ReadLine returns them, both ways.
TEST(Interactive, TimelineCutsLongLinesAndTakesCrlfEndingsAway) {
  OutputLog timeline;
  Interactive cat({.command = {"cat"}, .timeout = 60s, .timeline = &timeline});
  cat.set_line_ending("\r\n");
  cat.SendLine(std::string(1500, 'x'));
  EXPECT_EQ(cat.ReadLine(), std::string(1500, 'x'));
  cat.SendLine("mid\rline");
  EXPECT_EQ(cat.ReadLine(), "mid\rline");
  const std::string cut = std::string(1024, 'x') + " [... 476 more bytes]";
  EXPECT_THAT(ClientLines(timeline),
              ElementsAre("cat> " + cut, "cat< " + cut, R"(cat> mid\x0Dline)", R"(cat< mid\x0Dline)"));
  cat.SendEof();
  EXPECT_TRUE(cat.ExpectEof().success());
}

// SendLine ends a line with the line ending (by default "\n"); ReadLine takes a "\r" just
// before the "\n" away, and no other "\r".
TEST(Interactive, LineEndingAndCrlfLines) {
  Interactive cat({.command = {"cat"}, .timeout = 60s});
  EXPECT_EQ(cat.line_ending(), "\n");
  cat.SendLine("lf");
  EXPECT_EQ(cat.ReadUntil("\n"), "lf\n");
  cat.set_line_ending("\r\n");
  cat.SendLine("crlf");
  EXPECT_EQ(cat.ReadUntil("\n"), "crlf\r\n");
  cat.SendLine("read as a line");
  EXPECT_EQ(cat.ReadLine(), "read as a line");
  cat.Send("mid\rline\ntwo\r\r\n");
  EXPECT_EQ(cat.ReadLine(), "mid\rline");
  EXPECT_EQ(cat.ReadLine(), "two\r");
  cat.SendEof();
  EXPECT_TRUE(cat.ExpectEof().success());
}

}  // namespace
}  // namespace fixtures
