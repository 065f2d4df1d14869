// SpawnLauncher (internal: fixtures/src/process_launcher.hpp), used directly: what the child
// starts with, what it is told about its failures, and that the parent is left as it was.
#include "process_launcher.hpp"
#include "pids.hpp"  // internal: detail::ReadToEnd
#include "supervisor.hpp"  // internal: Containment, ContainedByCgroup

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fixtures::detail {
namespace {

namespace asio = boost::asio;
using Child = bp::basic_process<asio::io_context::executor_type>;
using ::testing::HasSubstr;

constexpr int kPatienceMs = 60'000;  // bounds a failure only; every wait ends on an event


// Launches `command` with its stdout into a pipe (made like Asio 1.81 makes them: not
// close-on-exec), reads that to its end and reaps the child. `inits` go to the launcher.
struct Outcome {
  bp::error_code ec;
  std::string out;
  int status = -1;  // as waitpid gives it
};
template <typename... Inits>
Outcome RunToEnd(asio::io_context& io, SpawnLauncher& launcher, std::vector<std::string> command, Inits&&... inits) {
  Outcome run;
  int out[2];
  EXPECT_EQ(::pipe(out), 0);
  std::vector<std::string> args(command.begin() + 1, command.end());
  std::optional<Child> child;
  {
    bp::process_stdio stdio{nullptr, out[1], nullptr};
    child.emplace(launcher(io.get_executor(), run.ec, command.front(), args, stdio, inits...));
  }
  ::close(out[1]);
  if (!run.ec) run.out = ReadToEnd(out[0]);
  ::close(out[0]);
  if (!run.ec) {
    child->wait(run.ec);
    run.status = child->native_exit_code();
  }
  return run;
}

// The hexadecimal mask of /proc/self/status's line `field` ("SigBlk", "SigIgn") in `status`.
std::uint64_t Mask(const std::string& status, const std::string& field) {
  auto at = status.find("\n" + field + ":");
  if (at == std::string::npos) return ~std::uint64_t{0};
  return std::stoull(status.substr(at + field.size() + 2), nullptr, 16);
}
std::uint64_t Bit(int signal) { return std::uint64_t{1} << (signal - 1); }

// True when nothing is left to reap: no child of ours has exited unreaped.
bool NoZombie() {
  siginfo_t info{};
  int r = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  return (r < 0 && errno == ECHILD) || (r == 0 && info.si_pid == 0);
}

// Blocks `blocked` in the calling thread and ignores `ignored` until destroyed.
class SignalState {
 public:
  SignalState(int blocked, int ignored) : ignored_(ignored) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, blocked);
    ::pthread_sigmask(SIG_BLOCK, &set, &mask_);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(ignored, &ignore, &action_);
  }
  ~SignalState() {
    ::pthread_sigmask(SIG_SETMASK, &mask_, nullptr);
    ::sigaction(ignored_, &action_, nullptr);
  }

 private:
  int ignored_;
  sigset_t mask_;
  struct sigaction action_ {};
};

TEST(SpawnLauncher, ChildExecsWithNoSignalBlockedOrIgnoredByDefault) {
  asio::io_context io;
  SignalState state(SIGUSR1, SIGUSR2);
  SpawnLauncher launcher;
  Outcome run = RunToEnd(io, launcher, {"/bin/cat", "/proc/self/status"});
  ASSERT_FALSE(run.ec) << run.ec.message();
  EXPECT_EQ(Mask(run.out, "SigBlk"), 0u) << run.out;
  EXPECT_EQ(Mask(run.out, "SigIgn"), 0u) << run.out;
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0);
}

TEST(SpawnLauncher, WithoutDefaultSignalsTheCallersMaskAndIgnoredSignalsAreKept) {
  asio::io_context io;
  SignalState state(SIGUSR1, SIGUSR2);
  SpawnLauncher launcher;
  launcher.default_signals = false;
  Outcome run = RunToEnd(io, launcher, {"/bin/cat", "/proc/self/status"});
  ASSERT_FALSE(run.ec) << run.ec.message();
  // The caller's mask, not the all-blocked one the child was started with.
  EXPECT_EQ(Mask(run.out, "SigBlk"), Bit(SIGUSR1)) << run.out;
  EXPECT_EQ(Mask(run.out, "SigIgn") & Bit(SIGUSR2), Bit(SIGUSR2)) << run.out;
}

volatile sig_atomic_t g_handler_ran = 0;

// A hook that sends SIGUSR1 to the child itself (kill, not raise: raise would name the
// parent's thread, whose descriptor the child shares).
struct SignalItself {
  bp::error_code on_exec_setup(bp::posix::default_launcher&, const bp::filesystem::path&, const char* const*) const {
    ::kill(::getpid(), SIGUSR1);
    return {};
  }
};

TEST(SpawnLauncher, AHandlerOfOursNeverRunsInTheChild) {
  struct sigaction handler {};
  handler.sa_handler = [](int) { g_handler_ran = 1; };
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGUSR1, &handler, &old), 0);
  asio::io_context io;
  for (bool default_signals : {true, false}) {
    SCOPED_TRACE(default_signals ? "default_signals" : "handlers reset only");
    g_handler_ran = 0;
    SpawnLauncher launcher;
    launcher.default_signals = default_signals;
    // The signal is pending (blocked) until the child sets its mask before execve: then its
    // disposition must be the default one, which ends the child.
    Outcome run = RunToEnd(io, launcher, {"/bin/true"}, SignalItself{});
    ASSERT_FALSE(run.ec) << run.ec.message();
    EXPECT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGUSR1) << "status " << run.status;
    EXPECT_EQ(g_handler_ran, 0) << "our SIGUSR1 handler ran in the child, on our memory";
  }
  ::sigaction(SIGUSR1, &old, nullptr);
}

TEST(SpawnLauncher, ChildKeepsOnlyTheDescriptorsItIsTold) {
  asio::io_context io;
  int leaked[2];
  ASSERT_EQ(::pipe(leaked), 0);  // not close-on-exec
  int kept = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(kept, 0);
  SpawnLauncher launcher;
  launcher.fd_whitelist.push_back(kept);
  Outcome run = RunToEnd(io, launcher, {FIXTURES_HELPER, "fds"});
  ASSERT_FALSE(run.ec) << run.ec.message();
  EXPECT_EQ(run.out, "open fd " + std::to_string(kept) + " -> /dev/null\ndone\n");
  ::close(kept);
  ::close(leaked[0]);
  ::close(leaked[1]);
}

struct FailWith {
  int error;
  bp::error_code on_exec_setup(bp::posix::default_launcher&, const bp::filesystem::path&, const char* const*) const {
    return bp::error_code(error, bp::system_category());
  }
};

TEST(SpawnLauncher, ReportsTheErrorOfItsExecOrOfAHookAndReapsTheChild) {
  asio::io_context io;
  {
    SpawnLauncher launcher;
    Outcome run = RunToEnd(io, launcher, {"/nonexistent/program"});
    EXPECT_EQ(run.ec.value(), ENOENT) << run.ec.message();
    EXPECT_EQ(launcher.failed_step, ChildStep::kExec);
    EXPECT_EQ(launcher.pid, -1);
  }
  {
    SpawnLauncher launcher;
    Outcome run = RunToEnd(io, launcher, {"/proc/self/status"});  // a file that is not executable
    EXPECT_EQ(run.ec.value(), EACCES) << run.ec.message();
  }
  {
    SpawnLauncher launcher;
    Outcome run = RunToEnd(io, launcher, {"/bin/true"}, FailWith{ENOTDIR});
    EXPECT_EQ(run.ec.value(), ENOTDIR) << run.ec.message();
    EXPECT_EQ(launcher.failed_step, ChildStep::kHooks);
    EXPECT_THAT(run.ec.message(), HasSubstr("Not a directory"));
  }
  EXPECT_TRUE(NoZombie()) << "a child that failed was left unreaped";
}

// A child given a cgroup starts in it (born there through clone3 where the kernel can, else
// moved there before its hooks; under ThreadSanitizer it forks and moves): what it runs first
// reads its own /proc/self/cgroup.
TEST(SpawnLauncher, TheChildStartsInTheCgroupItIsGiven) {
  if (!ContainedByCgroup()) GTEST_SKIP() << "no cgroup v2 this process can make children in";
  Containment containment = Containment::Prepare();
  ASSERT_GE(containment.cgroup_fd(), 0) << containment.Describe();
  const std::string described = containment.Describe();  // "cgroup /sys/fs/cgroup/.../cN"
  const std::string leaf = described.substr(described.rfind('/'));
  asio::io_context io;
  SpawnLauncher launcher;
  launcher.cgroup_fd = containment.cgroup_fd();
  Outcome run = RunToEnd(io, launcher, {"/bin/cat", "/proc/self/cgroup"});
  ASSERT_FALSE(run.ec) << run.ec.message();
  EXPECT_TRUE(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0);
  std::string own;  // the cgroup v2 line, "0::/path"
  for (std::size_t at = 0; at < run.out.size();) {
    std::size_t end = run.out.find('\n', at);
    std::string line = run.out.substr(at, end - at);
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
    at = end == std::string::npos ? run.out.size() : end + 1;
  }
  ASSERT_GE(own.size(), leaf.size()) << run.out;
  EXPECT_EQ(own.substr(own.size() - leaf.size()), leaf) << "the child ran in " << own << ", not in " << described;
}

// A directory that is not a cgroup cannot take the child: its start fails, saying why (the
// cgroup.procs it would have written to is not there), and nothing is left to reap.
TEST(SpawnLauncher, ADirectoryThatIsNotACgroupFailsTheStart) {
  int dir = ::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  asio::io_context io;
  SpawnLauncher launcher;
  launcher.cgroup_fd = dir;
  Outcome run = RunToEnd(io, launcher, {"/bin/true"});
  ::close(dir);
  EXPECT_EQ(run.ec.value(), ENOENT) << run.ec.message();
  EXPECT_EQ(launcher.failed_step, ChildStep::kCgroup);
  EXPECT_EQ(launcher.pid, -1);
  EXPECT_TRUE(NoZombie()) << "the child that failed was left unreaped";
}

// The reason Boost's vfork_launcher is not used on 1.81-1.82: its child rebuilds the Asio
// reactor it shares with us (notify_fork), and the parent's pending operations are lost.
TEST(SpawnLauncher, LeavesTheParentsReactorWorking) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  asio::readable_pipe pipe(io, fds[0]);
  std::promise<std::string> read;
  char byte = 0;
  pipe.async_read_some(asio::buffer(&byte, 1), [&](bp::error_code ec, std::size_t n) {
    read.set_value(ec ? ec.message() : std::string(n, byte));
  });
  for (int i = 0; i < 50; ++i) {
    SpawnLauncher launcher;
    bp::error_code ec;
    Child child = launcher(io.get_executor(), ec, "/bin/true", std::vector<std::string>{});
    ASSERT_FALSE(ec) << ec.message();
    child.wait(ec);
  }
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  auto result = read.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::milliseconds(kPatienceMs)), std::future_status::ready)
      << "the read pending across the spawns never completed";
  EXPECT_EQ(result.get(), "x");
  work.reset();
  io.stop();
  runner.join();
  ::close(fds[1]);
}

struct DieWithParentThread {
  bp::error_code on_exec_setup(bp::posix::default_launcher&, const bp::filesystem::path&, const char* const*) const {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return bp::error_code(errno, bp::system_category());
    return {};
  }
};

TEST(SpawnLauncher, TheChildsParentIsTheSpawningThread) {
  asio::io_context io;
  std::optional<Child> child;
  bp::error_code ec;
  std::thread spawner([&] {
    SpawnLauncher launcher;
    child.emplace(launcher(io.get_executor(), ec, "/bin/sleep", std::vector<std::string>{"600"},
                           DieWithParentThread{}));
  });
  spawner.join();  // the death signal fires as this thread ends
  ASSERT_FALSE(ec) << ec.message();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child->id(), 0));
  ASSERT_GE(pidfd, 0);
  pollfd p{pidfd, POLLIN, 0};
  bool ended = ::poll(&p, 1, kPatienceMs) == 1;
  ::close(pidfd);
  EXPECT_TRUE(ended) << "the child outlived the thread that spawned it";
  if (!ended) ::kill(child->id(), SIGKILL);
  child->wait(ec);
  EXPECT_TRUE(WIFSIGNALED(child->native_exit_code()) && WTERMSIG(child->native_exit_code()) == SIGKILL);
}

TEST(SpawnLauncher, ManySpawnsFromSeveralThreadsAtOnceLeakNoDescriptor) {
  asio::io_context io;
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::atomic<int> clean{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        SpawnLauncher launcher;
        // Each child sees the other threads' pipes, not close-on-exec, open at its spawn.
        Outcome run = RunToEnd(io, launcher, {FIXTURES_HELPER, "fds"});
        if (!run.ec && run.out == "done\n" && WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) {
          ++clean;
        } else if (failures[static_cast<std::size_t>(t)].empty()) {
          failures[static_cast<std::size_t>(t)] = run.ec ? run.ec.message() : run.out;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clean, kThreads * kEach);
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_TRUE(NoZombie());
}

}  // namespace
}  // namespace fixtures::detail
