#include "fixtures/exit_status.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <gtest/gtest.h>

namespace fixtures {
namespace {

// Real wait statuses from real children, not hand-made numbers.
ExitStatus RunChild(void (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(99);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return ExitStatus::FromWaitStatus(status);
}

TEST(ExitStatus, ExitCodeFifteenIsNotSigterm) {
  ExitStatus code15 = RunChild([] { ::_exit(15); });
  ExitStatus sigterm = RunChild([] {
    ::signal(SIGTERM, SIG_DFL);
    ::raise(SIGTERM);
  });
  EXPECT_TRUE(code15.exited());
  EXPECT_EQ(code15.code(), 15);
  EXPECT_FALSE(code15.signaled());
  EXPECT_EQ(code15.Describe(), "exited with code 15");
  EXPECT_TRUE(sigterm.signaled());
  EXPECT_EQ(sigterm.signal(), SIGTERM);
  EXPECT_EQ(sigterm.code(), -1);
  EXPECT_EQ(sigterm.Describe(), "killed by SIGTERM");
  EXPECT_NE(code15, sigterm);
}

TEST(ExitStatus, SuccessAndSignalNames) {
  EXPECT_TRUE(RunChild([] { ::_exit(0); }).success());
  EXPECT_FALSE(RunChild([] { ::_exit(3); }).success());
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(1000), "signal 1000");
}

}  // namespace
}  // namespace fixtures
