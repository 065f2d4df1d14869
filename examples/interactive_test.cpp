// Programs driven through their prompts: Python's interactive interpreter and sqlite3's shell.
#include <gmock/gmock.h>

#include <fixtures/interactive.hpp>

using namespace std::chrono_literals;

TEST(PythonRepl, EvaluatesAndQuits) {
  // With stdin not a terminal, `python3 -i` still prompts (">>> " on stderr) and flushes its
  // answers after each statement, so plain pipes do.
  fixtures::Interactive python({.command = {"python3", "-i", "-q"}, .name = "python", .timeout = 30s});
  python.Expect(">>> ");
  python.SendLine("2+2");
  EXPECT_EQ(python.Expect(R"((\d+)\n)")[1], "4");
  python.Expect(">>> ");
  python.SendLine(R"(len("foobar"))");
  EXPECT_EQ(python.Expect(R"((\d+)\n)")[1], "6");
  python.Expect(">>> ");
  python.SendLine("quit()");
  fixtures::ExitStatus status = python.ExpectEof();
  EXPECT_TRUE(status.success()) << status.Describe();
}

TEST(Sqlite3Shell, AnswersAtItsPrompt) {
  // sqlite3 prompts only on a terminal: run it on one (pty mode).
  fixtures::Interactive sqlite({.command = {"sqlite3", ":memory:"}, .name = "sqlite3", .pty = true,
                                .timeout = 30s});
  sqlite.Expect("sqlite> ");
  sqlite.SendLine("create table fruit(name text, count int);");
  sqlite.Expect("sqlite> ");
  sqlite.SendLine("insert into fruit values ('apple', 3), ('pear', 4);");
  sqlite.Expect("sqlite> ");
  sqlite.SendLine("select sum(count) from fruit;");
  // The answer on a line of its own, or right after the prompt: the shell may or may not echo
  // the query before it, depending on the terminal type (TERM).
  EXPECT_EQ(sqlite.Expect(R"((\d+)\r?$)")[1], "7");
  sqlite.Expect("sqlite> ");
  sqlite.SendLine(".quit");
  // On a terminal, the shell may echo ".quit" and reset the terminal's modes as it exits.
  sqlite.ReadToEof();
  EXPECT_TRUE(sqlite.process().Wait().success());
}
