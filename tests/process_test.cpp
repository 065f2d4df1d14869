#include "fixtures/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hostile.hpp"
#include "pids.hpp"  // internal: detail::ParentOf

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();  // <sanitizer/allocator_interface.h>
#endif

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kPatience = 60s;  // bounds a failure only; every wait ends on an event

ProcessOptions Helper(std::vector<std::string> args) {
  ProcessOptions options;
  options.command = {FIXTURES_HELPER};
  options.command.insert(options.command.end(), args.begin(), args.end());
  return options;
}

// The bytes of one stream, rebuilt from the log's lines.
std::string Rebuild(const std::vector<Line>& lines, Stream stream) {
  std::string bytes;
  for (const auto& line : lines) {
    if (line.stream != stream) continue;
    bytes += line.text;
    if (line.newline) bytes += '\n';
  }
  return bytes;
}

// Waits (on a pidfd, not a sleep) for a process that is not our child to end.
bool WaitForPidToEnd(pid_t pid, std::chrono::milliseconds timeout) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  ::close(fd);
  return ready == 1;
}

TEST(Process, OutputIsByteExactForHostileBytes) {
  Process process(Helper({"hostile"}));
  EXPECT_TRUE(process.Wait().success());
  auto lines = process.log().Lines();
  EXPECT_EQ(process.log().dropped_lines(), 0u);
  EXPECT_EQ(Rebuild(lines, Stream::kOut), fixtures_test::HostileStdout());
  EXPECT_EQ(Rebuild(lines, Stream::kErr), fixtures_test::HostileStderr());
  // The last lines have no newline and are marked so.
  std::vector<Line> out;
  for (auto& l : lines) if (l.stream == Stream::kOut) out.push_back(l);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().text, "last line without newline");
  EXPECT_FALSE(out.back().newline);
}

TEST(Process, LogFileHoldsEveryByte) {
  auto options = Helper({"hostile"});
  options.log.file = std::filesystem::temp_directory_path() /
                     ("fixtures-hostile-" + std::to_string(::getpid()) + ".log");
  {
    Process process(options);
    process.Wait();
  }
  std::ifstream in(options.log.file, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  // Each record is "+seconds stream| bytes\n" ('~' instead of '|' without a newline); bytes never hold '\n'.
  std::string out, file = content.str();
  std::size_t pos = 0;
  while (pos < file.size()) {
    auto end = file.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    std::string_view record(file.data() + pos, end - pos);
    auto space = record.find(' ');
    auto tag = record.substr(space + 1, 4);
    if (tag == "out|" || tag == "out~") {
      out += std::string(record.substr(space + 6));
      if (tag == "out|") out += '\n';
    }
    pos = end + 1;
  }
  EXPECT_EQ(out, fixtures_test::HostileStdout());
  std::filesystem::remove(options.log.file);
}

std::string FileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Without `log.file`, a child still gets a file: DefaultLogFile(its name), one per child.
TEST(Process, WritesALogFileByDefault) {
  const std::string prefix = "fixtures_helper-" + std::to_string(::getpid()) + "-";
  std::filesystem::path first_file;
  {
    Process first(Helper({"exit", "3", "fatal: config missing", "second line"}));
    first.Wait();
    first_file = first.log().file();
    EXPECT_EQ(first.options().log.file, first_file);
  }
  ASSERT_FALSE(first_file.empty());
  EXPECT_EQ(first_file.parent_path(), DefaultLogDirectory());
  const std::string name = first_file.filename().string();
  ASSERT_TRUE(name.starts_with(prefix) && name.ends_with(".log")) << name;
  const int n = std::stoi(name.substr(prefix.size()));
  std::string text = FileText(first_file);
  EXPECT_THAT(text, HasSubstr(" err| fatal: config missing\n"));
  EXPECT_THAT(text, HasSubstr(" err| second line\n"));

  Process second(Helper({"exit", "0", "again"}));
  second.Wait();
  EXPECT_EQ(second.log().file(), DefaultLogDirectory() / (prefix + std::to_string(n + 1) + ".log"));
  EXPECT_THAT(FileText(second.log().file()), HasSubstr(" err| again\n"));
  EXPECT_THAT(FileText(first_file), Not(HasSubstr("again")));
  std::filesystem::remove(first_file);
  std::filesystem::remove(second.log().file());
}

TEST(Process, AnErrorNamesItsDefaultLogFile) {
  Process process(Helper({"exit", "3", "fatal: config missing"}));
  try {
    process.WaitForLine("never printed", 600s);
    FAIL() << "matched";
  } catch (const Error& e) {
    ASSERT_FALSE(e.log_file().empty());
    EXPECT_THAT(e.what(), HasSubstr("(full log: " + e.log_file().string() + ")"));
    EXPECT_THAT(FileText(e.log_file()), HasSubstr(" err| fatal: config missing\n"));
  }
}

TEST(Process, DefaultLogFilesAreNumberedPerNameWithSafeNames) {
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(DefaultLogFile("log files/test a"), DefaultLogDirectory() / ("log_files_test_a-" + pid + "-1.log"));
  EXPECT_EQ(DefaultLogFile("log files/test b"), DefaultLogDirectory() / ("log_files_test_b-" + pid + "-1.log"));
  EXPECT_EQ(DefaultLogFile("log files/test a"), DefaultLogDirectory() / ("log_files_test_a-" + pid + "-2.log"));
  // Names that give the same file name share the count: their files differ.
  EXPECT_EQ(DefaultLogFile("log_files/test_a"), DefaultLogDirectory() / ("log_files_test_a-" + pid + "-3.log"));
  EXPECT_FALSE(std::filesystem::exists(DefaultLogDirectory() / ("log_files_test_a-" + pid + "-1.log")));
}

// Bytes this process has allocated and not freed, now: its current heap, not a high-water mark,
// so it measures this test whatever ran before it in the same process.
std::size_t HeapInUse() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return __sanitizer_get_current_allocated_bytes();  // the sanitizers' allocator replaces malloc
#else
  struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;  // in use from the arenas + mmapped chunks
#endif
}

TEST(Process, FloodOf256MiBFinishesWithBoundedMemory) {
  constexpr std::size_t kFlood = 256u << 20;
  constexpr std::size_t kAllowed = 64u << 20;  // the 4 MiB log, its blocks and read buffers
  auto options = Helper({"flood", std::to_string(kFlood)});
  options.log.memory_limit = 4u << 20;
  options.log.file = std::filesystem::temp_directory_path() /
                     ("fixtures-flood-" + std::to_string(::getpid()) + ".log");
  // Sampled on the reader thread after every chunk the log has taken in (the library calls
  // on_output right after logging it): the heap while the flood goes through, at every step.
  const std::size_t baseline = HeapInUse();
  std::atomic<std::size_t> peak{baseline};
  std::atomic<std::uint64_t> samples{0};
  options.on_output = [&](Stream, std::string_view) {
    std::size_t now = HeapInUse();
    std::size_t seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    ++samples;
  };
  {
    Process process(options);
    auto status = process.WaitFor(600s);
    ASSERT_TRUE(status) << "the flooding child did not finish";
    EXPECT_TRUE(status->success()) << status->Describe();
    auto lines = process.log().Lines();
    std::size_t bytes = 0;
    for (auto& l : lines) bytes += l.text.size();
    EXPECT_LE(bytes, options.log.memory_limit);
    EXPECT_EQ(process.log().next_seq(), kFlood / 100 + 1 /*partial last line*/ + 2 /*started, exited*/);
    EXPECT_EQ(lines.back().stream, Stream::kSystem);
    // The whole flood has been read and the Process still holds whatever it kept.
    const std::size_t at_end = HeapInUse();
    EXPECT_LT(at_end, baseline + kAllowed) << "the heap holds " << (at_end - baseline) / 1024
                                           << " KiB more than before the flood, after it";
  }
  EXPECT_GT(samples.load(), 100u);  // sampled all along, not once at the end
  EXPECT_LT(peak.load(), baseline + kAllowed) << "the heap grew by up to " << (peak.load() - baseline) / 1024
                                              << " KiB during the flood";
  // The file has every line: 256 MiB of text plus a record prefix per line.
  EXPECT_GT(std::filesystem::file_size(options.log.file), kFlood);
  std::filesystem::remove(options.log.file);
}

TEST(Process, ExitStatusIsDecoded) {
  Process code3(Helper({"exit", "3", "bye"}));
  EXPECT_EQ(code3.Wait().Describe(), "exited with code 3");
  Process segv(Helper({"raise", std::to_string(SIGSEGV)}));
  auto status = segv.Wait();
  EXPECT_TRUE(status.signaled());
  EXPECT_THAT(status.Describe(), HasSubstr("killed by SIGSEGV"));
  auto tail = segv.log().Tail(1);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].stream, Stream::kSystem);
  EXPECT_THAT(tail[0].text, HasSubstr("killed by SIGSEGV"));
}

TEST(Process, StopSendsTheSignalAndReaps) {
  Process process(Helper({"print-ready", "up"}));
  process.WaitForLine("up", kPatience);
  auto status = process.Stop({SIGTERM, 60s});
  EXPECT_TRUE(status.signaled());
  EXPECT_EQ(status.signal(), SIGTERM);
  EXPECT_FALSE(process.running());
  EXPECT_EQ(::waitpid(process.pid(), nullptr, WNOHANG), -1) << "not reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST(Process, StopEscalatesToSigkillAfterTheGrace) {
  Process process(Helper({"ignore-term", "up"}));
  process.WaitForLine("up", kPatience);
  auto status = process.Stop({SIGTERM, 50ms});
  EXPECT_EQ(status.signal(), SIGKILL) << status.Describe();
  std::string notes;
  for (auto& line : process.log().Lines()) if (line.stream == Stream::kSystem) notes += line.text + "\n";
  EXPECT_THAT(notes, HasSubstr("sent SIGTERM"));
  EXPECT_THAT(notes, HasSubstr("sent SIGKILL"));
  EXPECT_THAT(notes, HasSubstr("grace period of 50ms"));
}

TEST(Process, StopKillsTheWholeGroup) {
  pid_t grandchild = 0;
  {
    Process process(Helper({"grandchild"}));
    auto match = process.WaitForLine(R"(grandchild (\d+))", kPatience);
    grandchild = std::stoi(match.groups[1]);
    process.WaitForLine("parent ready", kPatience);
    process.Stop({SIGTERM, 60s});
  }
  EXPECT_TRUE(WaitForPidToEnd(grandchild, 60s)) << "grandchild " << grandchild << " survived";
}

TEST(Process, ChildDiesWhenTheTestProcessIsKilled) {
  Process spawner({.command = {SPAWNER, FIXTURES_HELPER}});
  auto match = spawner.WaitForLine(R"(server pid (\d+))", kPatience);
  pid_t server = std::stoi(match.groups[1]);
  ASSERT_EQ(::kill(server, 0), 0) << "the server should be running";
  spawner.Signal(SIGKILL);
  EXPECT_TRUE(spawner.Wait().signaled());
  EXPECT_TRUE(WaitForPidToEnd(server, 60s)) << "server " << server << " outlived its killed parent";
}

TEST(Process, DetachedChildOutlivesTheProcessObject) {
  auto options = Helper({"print-ready", "up"});
  options.die_with_parent = false;
  pid_t pid = 0;
  {
    Process process(options);
    process.WaitForLine("up", kPatience);
    pid = process.pid();
    process.Detach();
    // Not ours to signal now: nothing is sent (its group may outlive it under another program).
    process.Signal(SIGKILL);
    EXPECT_THAT(process.log().Lines(), Not(::testing::Contains(::testing::Field(&Line::text, HasSubstr("sent SIGKILL")))));
    EXPECT_THAT([&] { process.Stop(); }, ::testing::ThrowsMessage<Error>(HasSubstr("which was detached")));
    try {
      process.Wait();
      ADD_FAILURE() << "waited for a detached child";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kWrongState);
    }
    try {
      process.Stop();
      ADD_FAILURE() << "stopped a detached child";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kWrongState);
    }
    EXPECT_FALSE(process.exit_status().has_value());
  }  // the Process is gone; the I/O thread (the child's parent for PR_SET_PDEATHSIG) runs on
  ASSERT_EQ(::kill(pid, 0), 0) << "the detached child died with its Process";
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pidfd, 0);
  pollfd p{pidfd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "the detached child has exited";
  ::close(pidfd);
  // Ours to end (we started it); still our child, so we reap it too.
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(Process, ChildInheritsNoDescriptorOfOurs) {
  // A listening socket and a pipe of ours, not close-on-exec, as Asio 1.81 leaves them.
  int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Process process(Helper({"fds"}));
  process.Wait();
  std::string out = Rebuild(process.log().Lines(), Stream::kOut);
  EXPECT_EQ(out, "done\n");
  ::close(sock);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Process, EnvironmentAndWorkingDirectory) {
  auto options = Helper({"env", "FIXTURES_TEST_VAR"});
  options.env = {{"FIXTURES_TEST_VAR", "a value with spaces"}};
  Process env(options);
  env.Wait();
  EXPECT_EQ(Rebuild(env.log().Lines(), Stream::kOut), "a value with spaces\n");

  auto dir = std::filesystem::temp_directory_path();
  Process pwd({.command = {FIXTURES_HELPER, "pwd"}, .cwd = dir});
  pwd.Wait();
  EXPECT_EQ(Rebuild(pwd.log().Lines(), Stream::kOut),
            std::filesystem::canonical(dir).string() + "\n");

  Process empty({.command = {FIXTURES_HELPER, "env", "HOME"}, .inherit_env = false});
  empty.Wait();
  EXPECT_EQ(Rebuild(empty.log().Lines(), Stream::kOut), "<unset>\n");
}

TEST(Process, MissingExecutableFailsAtOnce) {
  auto begin = Clock::now();
  try {
    Process process({.command = {"no-such-program-fixtures", "--flag"}});
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSpawnFailed);
    EXPECT_THAT(e.what(), HasSubstr("cannot start `no-such-program-fixtures --flag`"));
    EXPECT_THAT(e.what(), HasSubstr("not found in PATH="));
  }
  try {
    Process process({.command = {"/nonexistent/dir/server"}});
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSpawnFailed);
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/dir/server not found"));
  }
  EXPECT_LT(Clock::now() - begin, 5s);
}

TEST(Process, NonExecutableFileInPathFailsSayingSo) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-path-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "fixtures-noexec") << "#!/bin/sh\necho hi\n";
  try {
    Process process({.command = {"fixtures-noexec"}, .env = {{"PATH", "/nonexistent:" + dir.string()}}});
    ADD_FAILURE() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSpawnFailed);
    EXPECT_THAT(e.what(), HasSubstr("'fixtures-noexec' found in PATH but not executable (" +
                                    std::string(std::strerror(EACCES)) + ")"));
  }
  std::filesystem::permissions(dir / "fixtures-noexec", std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  Process found({.command = {"fixtures-noexec"}, .env = {{"PATH", "/nonexistent:" + dir.string()}}});
  EXPECT_TRUE(found.Wait().success());
  std::filesystem::remove_all(dir);
}

TEST(Process, NonExecutableFileFailsAtOnce) {
  auto file = std::filesystem::temp_directory_path() / ("fixtures-noexec-" + std::to_string(::getpid()));
  std::ofstream(file) << "#!/bin/sh\necho hi\n";
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  try {
    Process process({.command = {file.string()}});
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSpawnFailed);
    EXPECT_THAT(e.what(), HasSubstr("is not executable"));
    EXPECT_THAT(e.what(), HasSubstr(file.string()));
  }
  std::filesystem::remove(file);
}

// A file that passes the checks before the spawn (it exists, it is executable) but that
// execve refuses: the child's error reaches the message, the child is reaped, and no log
// file was made (it is created once the child runs).
TEST(Process, ExecFailureIsReportedReapedAndLeavesNoLogFile) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-enoexec-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "garbage") << "not a program, and no #! line\n";
  std::filesystem::permissions(dir / "garbage", std::filesystem::perms::owner_all);
  ProcessOptions options{.command = {(dir / "garbage").string()}};
  options.log.file = dir / "garbage.log";
  try {
    Process process(options);
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSpawnFailed);
    EXPECT_THAT(e.what(), HasSubstr("exec of " + (dir / "garbage").string() + " failed: " + std::strerror(ENOEXEC)));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "garbage.log"));
  siginfo_t info{};
  int r = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  EXPECT_TRUE((r < 0 && errno == ECHILD) || (r == 0 && info.si_pid == 0)) << "the failed child was not reaped";
  std::filesystem::remove_all(dir);
}

// The pids whose parent is this process, zombies included.
std::vector<int> OurChildren() {
  std::vector<int> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (detail::ParentOf(std::stoi(name)) == ::getpid()) children.push_back(std::stoi(name));
  }
  return children;
}

// Starts a Process whose log file cannot be created: it must throw kSystem naming the file.
// Returns the message.
std::string ExpectNoLogFile(const ProcessOptions& options) {
  try {
    Process process(options);
    ADD_FAILURE() << "started without its log file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSystem);
    EXPECT_THAT(e.what(), HasSubstr("cannot create log file " + options.log.file.string()));
    return e.what();
  }
  return "";
}

// A log file that cannot be created once the child runs (here: its name is taken by a
// directory) ends that child, which is killed and reaped before the error is thrown.
TEST(Process, ALogFileThatCannotBeCreatedEndsTheChildItWasFor) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-nolog-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "taken");
  ProcessOptions options{.command = {FIXTURES_HELPER, "print-ready", "up"}};
  options.log.file = dir / "taken";
  ASSERT_THAT(OurChildren(), ::testing::IsEmpty());
  ExpectNoLogFile(options);
  EXPECT_THAT(OurChildren(), ::testing::IsEmpty()) << "the child is still running, or a zombie";
  std::filesystem::remove_all(dir);
}

// A log file whose directory cannot be made: refused before anything runs (the command would
// leave a file behind if it ran).
TEST(Process, ALogDirectoryThatCannotBeMadeStartsNothing) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-nologdir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "plain") << "a file, not a directory\n";
  ProcessOptions options{.command = {"/bin/touch", (dir / "ran").string()}};
  options.log.file = dir / "plain" / "child.log";
  EXPECT_THAT(ExpectNoLogFile(options), HasSubstr("nothing was started"));
  EXPECT_THAT(OurChildren(), ::testing::IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(dir / "ran")) << "the command ran";
  std::filesystem::remove_all(dir);
}

// A start that fails leaves a file of the log's name that was there before as it was.
TEST(Process, AFailedStartLeavesAnExistingLogFileAlone) {
  auto dir = std::filesystem::temp_directory_path() / ("fixtures-oldlog-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "old.log") << "the last run's lines\n";
  ProcessOptions options{.command = {(dir / "missing-program").string()}};
  options.log.file = dir / "old.log";
  EXPECT_THROW(Process process(options), Error);
  std::ifstream in(dir / "old.log");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "the last run's lines\n");
  std::filesystem::remove_all(dir);
}

// The thread that constructs a Process may block and ignore signals: its child gets neither.
TEST(Process, ChildStartsWithNoSignalBlockedOrIgnored) {
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask), 0);
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGUSR2, &ignore, &old_action), 0);
  Process process({.command = {"/bin/cat", "/proc/self/status"}});
  process.Wait();
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGUSR2, &old_action, nullptr);
  const std::string status = Rebuild(process.log().Lines(), Stream::kOut);
  EXPECT_THAT(status, HasSubstr("\nSigBlk:\t0000000000000000\n"));
  EXPECT_THAT(status, HasSubstr("\nSigIgn:\t0000000000000000\n"));
}

// Spawns are not serialized: every child marks what it does not use close-on-exec, so none
// keeps another's pipes (which would hold that child's output open past its exit).
TEST(Process, SpawnsFromSeveralThreadsAtOnceShareNoDescriptor) {
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::string> outputs(kThreads * kEach);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Process process(Helper({"fds"}));
        process.Wait();
        outputs[static_cast<std::size_t>(t * kEach + i)] = Rebuild(process.log().Lines(), Stream::kOut);
        std::filesystem::remove(process.log().file());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& out : outputs) EXPECT_EQ(out, "done\n");
}

TEST(Process, WaitForLineFailsAtOnceWhenTheChildExits) {
  Process process(Helper({"exit", "3", "fatal: config missing"}));
  auto begin = Clock::now();
  try {
    process.WaitForLine("never printed", 600s);
    FAIL() << "matched";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kExited);
    ASSERT_TRUE(e.exit_status().has_value());
    EXPECT_EQ(e.exit_status()->Describe(), "exited with code 3");
    EXPECT_EQ(e.log_file(), process.log().file());
    EXPECT_THAT(e.what(), HasSubstr("exited with code 3"));
    EXPECT_THAT(e.what(), HasSubstr("fatal: config missing"));
    EXPECT_THAT(e.what(), HasSubstr(FIXTURES_HELPER));
  }
  EXPECT_LT(Clock::now() - begin, 60s);
}

TEST(Process, EmptyCommandIsBadInput) {
  try {
    Process process(ProcessOptions{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  }
}

TEST(Process, QuotesCommandLinesForMessages) {
  EXPECT_EQ(QuoteCommandLine({"python3", "-c", "print('hi')", "a b", ""}),
            "python3 -c 'print('\\''hi'\\'')' 'a b' ''");
}

std::string SystemNotes(const Process& process) {
  std::string notes;
  for (auto& line : process.log().Lines()) if (line.stream == Stream::kSystem) notes += line.text + "\n";
  return notes;
}

TEST(Process, CallStopStepRunsItsCallableAndLogsItsFailure) {
  auto options = Helper({"stdin-quit", "up"});
  options.stdin_pipe = true;
  Process process(options);
  process.WaitForLine("up", kPatience);
  std::vector<std::string> purposes;
  auto refuse = [&](const StopStep::CallContext& context) {
    purposes.push_back(context.purpose);
    context.log.Note("asking it nicely" + context.purpose);
    return std::string("it said no");
  };
  auto quit = [&](const StopStep::CallContext& context) {
    purposes.push_back(context.purpose);
    process.WriteStdin("quit\n", kPatience);  // from the thread that stops: the io thread stays free
    return std::string();
  };
  auto status = process.Stop({.steps = {StopStep::Call("ask nicely", refuse, 600s),
                                        StopStep::Call("throw", [](const StopStep::CallContext&) -> std::string {
                                          throw std::runtime_error("no way");
                                        }, 600s),
                                        StopStep::Call("quit", quit, 60s)}});
  EXPECT_EQ(status.Describe(), "exited with code 0");
  EXPECT_THAT(purposes, ::testing::ElementsAre(" to stop it (step 1 of 3)", " to stop it (step 3 of 3)"));
  std::string notes = SystemNotes(process);
  EXPECT_THAT(notes, HasSubstr("asking it nicely to stop it (step 1 of 3)\n"));
  EXPECT_THAT(notes, HasSubstr("cannot stop it by ask nicely (step 1 of 3): it said no; going on at once\n"));
  EXPECT_THAT(notes, HasSubstr("cannot stop it by throw (step 2 of 3): no way; going on at once\n"));
  EXPECT_THAT(notes, Not(HasSubstr("SIGKILL")));
  EXPECT_EQ(StopStep::Call("HTTP POST /quit", {}, 1s).Describe(), "HTTP POST /quit");
}

TEST(Process, CallStopStepWithoutACallableFails) {
  Process process(Helper({"print-ready", "up"}));
  process.WaitForLine("up", kPatience);
  EXPECT_EQ(process.Stop({.steps = {StopStep{.action = StopStep::Action::kCall, .grace = 600s}}}).Describe(),
            "killed by SIGKILL");
  EXPECT_THAT(SystemNotes(process), HasSubstr("cannot stop it by a call: the step has no callable"));
}

TEST(Process, WriteStdinErrorsNameTheirCause) {
  auto options = Helper({"stdin-quit", "up"});
  options.stdin_pipe = true;
  auto kind_of_write = [](Process& process) {
    try {
      process.WriteStdin("quit\n", kPatience);
    } catch (const Error& e) {
      EXPECT_EQ(e.log_file(), process.log().file());
      return std::optional<ErrorKind>(e.kind());
    }
    return std::optional<ErrorKind>();
  };
  {
    Process closed_by_child(options);
    closed_by_child.WaitForLine("up", kPatience);
    closed_by_child.WriteStdin("close\n", kPatience);
    closed_by_child.WaitForLine("closed stdin", kPatience);
    EXPECT_EQ(kind_of_write(closed_by_child), ErrorKind::kClosed);
  }
  {
    Process closed_by_us(options);
    closed_by_us.WaitForLine("up", kPatience);
    closed_by_us.CloseStdin();
    closed_by_us.CloseStdin();  // no effect the second time
    EXPECT_EQ(kind_of_write(closed_by_us), ErrorKind::kWrongState);
  }
  {
    Process exited(options);
    exited.WaitForLine("up", kPatience);
    exited.WriteStdin("quit\n", kPatience);
    exited.Wait();
    try {
      exited.WriteStdin("quit\n", kPatience);
      ADD_FAILURE() << "wrote to an exited child";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kExited);
      ASSERT_TRUE(e.exit_status().has_value());
      EXPECT_EQ(e.exit_status()->Describe(), "exited with code 0");
    }
  }
}

TEST(Process, StdinStopStepWithoutAPipeFails) {
  Process process(Helper({"ignore-term", "up"}));  // stdin is /dev/null
  process.WaitForLine("up", kPatience);
  auto status = process.Stop({.steps = {StopStep::Stdin("quit\n", 600s)}});
  EXPECT_EQ(status.Describe(), "killed by SIGKILL");
  std::string notes = SystemNotes(process);
  EXPECT_THAT(notes, HasSubstr("cannot stop it by stdin \"quit\\x0A\": it has no stdin pipe"));
  EXPECT_THAT(notes, HasSubstr("still running after its stop step failed"));
}

TEST(Process, StdinStopStepFailsWhenTheChildClosedItsStdin) {
  auto options = Helper({"stdin-quit", "up"});
  options.stdin_pipe = true;
  Process process(options);
  process.WaitForLine("up", kPatience);
  process.WriteStdin("close\n", kPatience);
  process.WaitForLine("closed stdin", kPatience);
  auto status = process.Stop({.steps = {StopStep::Stdin("quit\n", 600s), StopStep::Signal(SIGINT, 60s)}});
  EXPECT_EQ(status.Describe(), "killed by SIGINT");
  std::string notes = SystemNotes(process);
  EXPECT_THAT(notes, HasSubstr("cannot stop it by stdin \"quit\\x0A\" (step 1 of 2): " +
                                std::string(std::strerror(EPIPE)) + "; going on at once"));
  EXPECT_THAT(notes, HasSubstr("sent SIGINT to process group " + std::to_string(process.pid()) +
                               " to stop it (step 2 of 2)"));
}

TEST(Process, StopPolicyWithoutStepsIsSignalThenSigkill) {
  Process process(Helper({"ignore-term", "up"}));
  process.WaitForLine("up", kPatience);
  StopPolicy policy{.signal = SIGTERM, .grace = std::chrono::milliseconds(50)};
  EXPECT_TRUE(policy.steps.empty());
  EXPECT_EQ(process.Stop(policy).Describe(), "killed by SIGKILL");
  std::string notes = SystemNotes(process);
  EXPECT_THAT(notes, HasSubstr("sent SIGTERM to process group " + std::to_string(process.pid()) + " to stop it\n"));
  EXPECT_THAT(notes, Not(HasSubstr("step")));
}

// Issue 13: one I/O thread serves every child, and a running child costs four descriptors
// (stdout, stderr, its pidfd, its log file); all are gone once the Process is.
TEST(Process, ManyChildrenShareOneIoThreadAndCostFourDescriptorsEach) {
  auto count = [](const char* dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
    return n;
  };
  Process first(Helper({"print-ready", "up"}));  // the I/O thread exists from here on
  first.WaitForLine(Pattern("^up$"), kPatience);
  const std::size_t threads_before = count("/proc/self/task");
  const std::size_t fds_before = count("/proc/self/fd");
  constexpr std::size_t kChildren = 24;
  {
    std::vector<std::unique_ptr<Process>> children;
    for (std::size_t i = 0; i < kChildren; ++i) {
      children.push_back(std::make_unique<Process>(Helper({"print-ready", "up"})));
    }
    for (auto& child : children) child->WaitForLine(Pattern("^up$"), kPatience);
    const std::size_t threads_during = count("/proc/self/task");
    const std::size_t fds_during = count("/proc/self/fd");
    EXPECT_LE(threads_during, threads_before + 1) << "threads grew with the children";
    EXPECT_LE(fds_during, fds_before + 4 * kChildren)
        << (fds_during - fds_before) << " descriptors for " << kChildren << " children";
    EXPECT_GE(fds_during, fds_before + 3 * kChildren) << "the count missed the children's descriptors";
  }
  // Each child was killed and reaped in its destructor, which closed everything it had.
  EXPECT_EQ(count("/proc/self/fd"), fds_before);
  EXPECT_LE(count("/proc/self/task"), threads_before + 1);
}

// A callback on the library's I/O thread that waits for a child would wait for that thread
// itself: the wait is refused with kWrongState instead of hanging every child.
TEST(Process, AWaitFromTheIoThreadIsRefusedNotAHang) {
  Process other(Helper({"print-ready", "up"}));
  std::promise<std::string> refused;
  std::atomic<bool> once{false};
  auto options = Helper({"print-ready", "hello"});
  options.on_output = [&](Stream stream, std::string_view) {
    if (stream == Stream::kSystem || once.exchange(true)) return;
    try {
      other.Wait();
      refused.set_value("Wait returned");
    } catch (const Error& e) {
      refused.set_value(std::string(e.kind() == ErrorKind::kWrongState ? "kWrongState: " : "other: ") + e.what());
    }
  };
  Process process(options);
  auto result = refused.get_future();
  ASSERT_EQ(result.wait_for(kPatience), std::future_status::ready) << "the callback never ran";
  std::string what = result.get();
  EXPECT_THAT(what, ::testing::StartsWith("kWrongState: "));
  EXPECT_THAT(what, HasSubstr("I/O thread"));
  EXPECT_FALSE(other.exit_status().has_value());
}

// SettleOutput: once it returns true, every byte the child wrote before the call is in the log,
// even the last of a megabyte that the I/O thread has not read yet.
TEST(Process, SettleOutputReadsWhatTheChildWroteBeforeTheCall) {
  auto fifo = std::filesystem::temp_directory_path() / ("fixtures-settle-" + std::to_string(::getpid()));
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  int told = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(told, 0);
  ProcessOptions options;
  options.command = {"/bin/sh", "-c",
                     "head -c 1048576 /dev/zero | tr '\\0' a | fold -w 99; echo; echo last; echo x > \"$0\"; exec sleep 1000",
                     fifo.string()};
  Process process(options);
  // The child says it has written everything (an event: its write to the FIFO).
  pollfd p{told, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kPatience).count())), 1);
  ::close(told);
  std::filesystem::remove(fifo);
  ASSERT_TRUE(process.SettleOutput(kPatience));
  auto tail = process.log().Tail(1, StreamFilter::kOut);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail.front().text, "last");
  const std::string out = Rebuild(process.log().Lines(), Stream::kOut);
  EXPECT_EQ(std::count(out.begin(), out.end(), 'a'), 1048576 + 1);  // and the one of "last"
}

// A child that never stops writing: SettleOutput returns once what was owed at the call has
// been read, not at its bound (which a test's end would pay for a chatty server).
TEST(Process, SettleOutputDoesNotWaitForAFloodToPause) {
  ProcessOptions options;
  options.command = {"/bin/sh", "-c", "echo first; exec yes flood"};
  Process process(options);
  process.WaitForLine(Pattern("^first$"), kPatience);
  EXPECT_TRUE(process.SettleOutput(kPatience)) << "it waited for the flood to pause";
  EXPECT_FALSE(process.exit_status().has_value());
}

}  // namespace
}  // namespace fixtures
