#include "fixtures/ports.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <locale.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/error.hpp"
#include "fixtures/process.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kPatience = 60s;  // bounds a failure only; every wait ends on an event

// strerror's text in the "C" locale: what a helper that never calls setlocale writes, whatever
// locale this test process runs in.
std::string CStrerror(int error) {
  locale_t c = ::newlocale(LC_ALL_MASK, "C", locale_t{});
  std::string text = ::strerror_l(error, c);
  ::freelocale(c);
  return text;
}

ProcessOptions PortStress(std::vector<std::string> args,
                          std::vector<std::pair<std::string, std::string>> env = {}) {
  ProcessOptions options;
  options.command = {PORT_STRESS};
  options.command.insert(options.command.end(), args.begin(), args.end());
  options.env = std::move(env);
  return options;
}

// The helper's stdout lines.
std::vector<std::string> OutLines(const Process& process) {
  std::vector<std::string> lines;
  for (const auto& line : process.log().Lines()) {
    if (line.stream == Stream::kOut) lines.push_back(line.text);
  }
  return lines;
}

// Runs `port_stress try PORT` and returns its verdict line: "reserved PORT" or "taken PORT".
std::string TryInAnotherProcess(int port) {
  Process process(PortStress({"try", std::to_string(port)}));
  auto status = process.WaitFor(ScaleTimeout(kPatience));
  if (!status || !status->success()) return "helper failed:\n" + process.FormatTail();
  auto lines = OutLines(process);
  return lines.empty() ? "no output" : lines.back();
}

// Runs `port_stress reserve 1` with `env`, expecting it to fail; returns its stderr and code.
std::pair<std::string, int> ReserveFailureInAnotherProcess(
    std::vector<std::pair<std::string, std::string>> env) {
  Process process(PortStress({"reserve", "1"}, std::move(env)));
  auto status = process.WaitFor(ScaleTimeout(kPatience));
  if (!status) return {"still running:\n" + process.FormatTail(), -1};
  std::string err;
  for (const auto& line : process.log().Lines()) {
    if (line.stream == Stream::kErr) err += line.text + "\n";
  }
  return {err, status->exited() ? status->code() : -1};
}

std::pair<int, int> EphemeralRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  int high = 0;
  in >> low >> high;
  return {low, high};
}

// A socket bound to 127.0.0.1:port, -1 on failure (errno set). No SO_REUSEADDR.
int BindLoopback(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(s);
    errno = err;
    return -1;
  }
  return s;
}

TEST(Ports, ReservedPortIsBindableAndOutsideTheEphemeralRange) {
  PortReservation reservation = ReservePort();
  ASSERT_TRUE(reservation);
  const int port = reservation.port();
  EXPECT_GE(port, 1024);
  EXPECT_LE(port, 65535);
  if (std::getenv("FIXTURES_PORT_RANGE") == nullptr) {
    const auto [low, high] = EphemeralRange();
    ASSERT_GT(low, 0) << "cannot read /proc/sys/net/ipv4/ip_local_port_range";
    EXPECT_TRUE(port < low || port > high) << port << " is in the ephemeral range " << low << "-" << high;
  }
  // A server that does not even set SO_REUSEADDR can bind and listen on it.
  const int s = BindLoopback(port);
  ASSERT_GE(s, 0) << "bind 127.0.0.1:" << port << ": " << std::strerror(errno);
  EXPECT_EQ(::listen(s, 4), 0) << std::strerror(errno);
  ::close(s);
}

TEST(Ports, ReservationsInOneProcessDiffer) {
  std::vector<PortReservation> held;
  std::set<int> ports;
  for (int i = 0; i < 32; ++i) {
    held.push_back(ReservePort());
    ports.insert(held.back().port());
  }
  EXPECT_EQ(ports.size(), held.size());
  // Even asking for a held port by number, from this same process, is refused.
  EXPECT_FALSE(TryReservePort(held.front().port()));
}

TEST(Ports, ThreadsReserveDistinctPorts) {
  constexpr int kThreads = 8;
  constexpr int kEach = 16;
  std::vector<std::vector<PortReservation>> held(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&held, t] {
        for (int i = 0; i < kEach; ++i) held[static_cast<std::size_t>(t)].push_back(ReservePort());
      });
    }
  }  // joined
  std::set<int> ports;
  for (const auto& mine : held) {
    for (const auto& reservation : mine) ports.insert(reservation.port());
  }
  EXPECT_EQ(ports.size(), static_cast<std::size_t>(kThreads * kEach));
}

// A port that the other tests' reservations do not sweep while this test runs beside them:
// ReservePort's default range is below the ephemeral range, and the contending stress test
// takes windows just above it; so from the top down. (A port released here and taken at once
// by a stress worker made "reserved" read "taken" on a fresh machine.)
PortReservation ReserveUnsweptPort() {
  const auto [low, high] = EphemeralRange();
  for (int port = 65535; low > 0 && port > high + 2048; --port) {
    if (PortReservation reservation = TryReservePort(port)) return reservation;
  }
  return ReservePort();
}

TEST(Ports, ReservedPortIsRefusedToAnotherProcessUntilReleased) {
  PortReservation reservation = ReserveUnsweptPort();
  ASSERT_TRUE(reservation);
  const int port = reservation.port();
  EXPECT_EQ(TryInAnotherProcess(port), "taken " + std::to_string(port));

  PortReservation moved = std::move(reservation);  // moving keeps the lock
  EXPECT_FALSE(reservation);                        // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(reservation.port(), 0);                 // NOLINT(bugprone-use-after-move)
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved.port(), port);
  EXPECT_EQ(TryInAnotherProcess(port), "taken " + std::to_string(port));

  moved = PortReservation();  // move-assigning releases the old port
  EXPECT_FALSE(moved);
  EXPECT_EQ(TryInAnotherProcess(port), "reserved " + std::to_string(port));

  {
    PortReservation again = TryReservePort(port);
    ASSERT_TRUE(again);
    EXPECT_EQ(TryInAnotherProcess(port), "taken " + std::to_string(port));
  }  // destroyed
  EXPECT_EQ(TryInAnotherProcess(port), "reserved " + std::to_string(port));
}

TEST(Ports, ReservationsDieWithTheirHolderEvenBySigkill) {
  Process holder(PortStress({"reserve", "3"}));
  holder.WaitForLine("^holding$", ScaleTimeout(kPatience));
  std::vector<int> ports;
  for (const auto& line : OutLines(holder)) {
    if (line.rfind("reserved ", 0) == 0) ports.push_back(std::stoi(line.substr(9)));
  }
  ASSERT_EQ(ports.size(), 3u) << holder.FormatTail();
  for (int port : ports) EXPECT_FALSE(TryReservePort(port)) << port;

  holder.Signal(SIGKILL);
  const ExitStatus status = holder.Wait();  // reaped: its descriptors are closed
  EXPECT_TRUE(status.signaled()) << status.Describe();
  for (int port : ports) EXPECT_TRUE(TryReservePort(port)) << port << " still locked";
}

TEST(Ports, LockDescriptorIsCloseOnExec) {
  PortReservation reservation = ReservePort();
  const auto lock_file = PortLockDirectory() / (std::to_string(reservation.port()) + ".lock");
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target != lock_file) continue;
    ++found;
    const int fd = std::stoi(entry.path().filename().string());
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << "descriptor " << fd << " of " << lock_file;
  }
  EXPECT_EQ(found, 1) << lock_file;
}

TEST(Ports, PortInUseOrInTimeWaitIsSkipped) {
  int port = 0;
  {
    PortReservation probe = ReservePort();
    port = probe.port();
  }
  // Bound by a socket that is no ServerFixtures reservation: refused.
  const int listener = BindLoopback(port);
  ASSERT_GE(listener, 0) << std::strerror(errno);
  ASSERT_EQ(::listen(listener, 4), 0);
  EXPECT_FALSE(TryReservePort(port));

  // The server side closes first, so its end of the connection lingers (TIME_WAIT) on the
  // port after everything is closed: still refused, since a server without SO_REUSEADDR
  // could not bind it.
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ASSERT_EQ(::connect(client, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0)
      << std::strerror(errno);
  const int accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(accepted, 0) << std::strerror(errno);
  ::close(listener);
  ::close(accepted);
  ::close(client);
  EXPECT_FALSE(TryReservePort(port));
}

TEST(Ports, FileInPlaceOfTheLockDirectoryIsNamedInTheError) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("fixtures-not-a-dir-" + std::to_string(::getpid()));
  std::ofstream(file) << "in the way\n";
  auto [err, code] = ReserveFailureInAnotherProcess({{"FIXTURES_PORT_LOCK_DIR", file.string()}});
  EXPECT_EQ(code, 3) << err;  // kSystem
  EXPECT_THAT(err, HasSubstr("port lock directory " + file.string() +
                             " (from FIXTURES_PORT_LOCK_DIR) is not a directory"));

  // A file where a parent directory should be.
  const auto below = file / "ports";
  std::tie(err, code) = ReserveFailureInAnotherProcess({{"FIXTURES_PORT_LOCK_DIR", below.string()}});
  EXPECT_EQ(code, 3) << err;
  EXPECT_THAT(err, HasSubstr("port lock directory " + below.string()));
  EXPECT_THAT(err, HasSubstr("cannot be created: " + CStrerror(ENOTDIR)));
  std::filesystem::remove(file);
}

TEST(Ports, NoFreePortNamesTheRangeAndTheLockDirectory) {
  PortReservation reservation = ReservePort();
  const std::string port = std::to_string(reservation.port());
  auto [err, code] = ReserveFailureInAnotherProcess({{"FIXTURES_PORT_RANGE", port + "-" + port}});
  EXPECT_EQ(code, 3) << err;
  EXPECT_THAT(err, HasSubstr("no free TCP port on 127.0.0.1 in " + port + "-" + port +
                             " (from FIXTURES_PORT_RANGE)"));
  EXPECT_THAT(err, HasSubstr("1 are reserved by ServerFixtures users, this process included (lock files in " +
                             PortLockDirectory().string()));
}

TEST(Ports, BadRangeOrPortIsBadInput) {
  auto [err, code] = ReserveFailureInAnotherProcess({{"FIXTURES_PORT_RANGE", "30000-20000"}});
  EXPECT_EQ(code, 4) << err;  // kBadInput
  EXPECT_THAT(err, HasSubstr("FIXTURES_PORT_RANGE='30000-20000' is not a port range"));
  for (int port : {0, -1, 65536}) {
    try {
      TryReservePort(port);
      ADD_FAILURE() << port << " accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kBadInput);
      EXPECT_THAT(error.what(), HasSubstr("not a port"));
    }
  }
}

constexpr int kStressWorkers = 4;
constexpr int kStressConcurrency = 8;

// Servers each stress worker starts: 250, or $FIXTURES_PORT_STRESS_SERVERS (e.g. for a slow
// sanitizer build; the defaults are the acceptance figures).
int StressServersPerWorker() {
  const char* env = std::getenv("FIXTURES_PORT_STRESS_SERVERS");
  return env != nullptr ? std::atoi(env) : 250;
}

struct StressFigures {
  int started = 0;
  int collisions = 0;
  int failures = 0;
  int max_held = 0;        // reservations held at once, all workers together
  int reuses = 0;          // times a port was reserved again after its release
  std::size_t ports = 0;   // distinct ports
  double seconds = 0;
};

// Runs kStressWorkers `port_stress worker` processes at once, each starting `per_worker`
// listening servers on reserved ports with up to kStressConcurrency alive, and checks what
// they report: no collision, no start-up failure, no port held by two reservations at once.
StressFigures RunStress(int per_worker, std::vector<std::pair<std::string, std::string>> env = {}) {
  StressFigures figures;
  const auto begin = Clock::now();
  std::vector<std::unique_ptr<Process>> workers;
  for (int w = 0; w < kStressWorkers; ++w) {
    auto options = PortStress({"worker", std::to_string(per_worker), std::to_string(kStressConcurrency)}, env);
    options.name = "port-worker-" + std::to_string(w);
    options.stdin_pipe = true;
    workers.push_back(std::make_unique<Process>(options));
  }
  // A barrier, so that reservations are held across processes at once by construction, not by
  // the scheduler's grace: each worker stops once it holds its first full set of servers, and
  // all go on once all hold theirs.
  const int held_by_each = std::min(per_worker, kStressConcurrency);
  for (auto& worker : workers) worker->WaitForLine("^holding " + std::to_string(held_by_each) + "$", ScaleTimeout(600s));
  for (auto& worker : workers) worker->WriteStdin("go\n", ScaleTimeout(60s));
  struct Held {
    long long from;
    long long to;
    int worker;
  };
  std::map<int, std::vector<Held>> by_port;
  std::vector<std::pair<long long, int>> events;  // (time, +1 reserved / -1 released)
  for (int w = 0; w < kStressWorkers; ++w) {
    Process& worker = *workers[static_cast<std::size_t>(w)];
    const auto status = worker.WaitFor(ScaleTimeout(600s));
    if (!status) {
      ADD_FAILURE() << "worker " << w << " still running:\n" << worker.FormatTail();
      continue;
    }
    EXPECT_TRUE(status->success()) << "worker " << w << ": " << status->Describe() << "\n"
                                   << worker.FormatTail();
    bool summary = false;
    for (const auto& line : OutLines(worker)) {
      std::istringstream in(line);
      std::string word;
      in >> word;
      if (word == "held") {
        int port = 0;
        Held held{0, 0, w};
        in >> port >> held.from >> held.to;
        by_port[port].push_back(held);
        events.emplace_back(held.from, +1);
        events.emplace_back(held.to, -1);
      } else if (word == "collision" || word == "failure") {
        ADD_FAILURE() << "worker " << w << ": " << line;
      } else if (word == "summary") {
        int started = 0, collisions = 0, failures = 0;
        summary = std::sscanf(line.c_str(), "summary started=%d collisions=%d failures=%d",
                              &started, &collisions, &failures) == 3;
        figures.started += started;
        figures.collisions += collisions;
        figures.failures += failures;
      }
    }
    EXPECT_TRUE(summary) << "worker " << w << " gave no summary:\n" << worker.FormatTail();
  }
  figures.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  figures.ports = by_port.size();

  // No port was held by two reservations (of the same worker or not) at the same time.
  for (auto& [port, intervals] : by_port) {
    std::sort(intervals.begin(), intervals.end(),
              [](const Held& a, const Held& b) { return a.from < b.from; });
    for (std::size_t i = 1; i < intervals.size(); ++i) {
      ++figures.reuses;
      EXPECT_LE(intervals[i - 1].to, intervals[i].from)
          << "port " << port << " held by workers " << intervals[i - 1].worker << " and "
          << intervals[i].worker << " at once";
    }
  }
  std::sort(events.begin(), events.end());  // a release sorts before a reservation at one time
  int held_now = 0;
  for (const auto& [time, delta] : events) figures.max_held = std::max(figures.max_held, held_now += delta);

  EXPECT_EQ(figures.collisions, 0);
  EXPECT_EQ(figures.failures, 0);
  EXPECT_EQ(figures.started, kStressWorkers * per_worker);
  // At the barrier every worker held its full set: those reservations were all held at once
  // (each is recorded from its reservation to its release), and never more than that.
  EXPECT_EQ(figures.max_held, kStressWorkers * held_by_each);
  std::printf("[ ports    ] %d servers started by %d processes (up to %d alive each, %d at once in "
              "all), %d collisions, %d start-up failures, %zu distinct ports (%d reuses), %.1f s\n",
              figures.started, kStressWorkers, kStressConcurrency, figures.max_held,
              figures.collisions, figures.failures, figures.ports, figures.reuses, figures.seconds);
  return figures;
}

// The acceptance test of collision-free ports: 4 processes at once each start 250 real
// listening servers one after another on reserved ports, each keeping 8 alive, so ports are
// held concurrently across processes.
TEST(Ports, StressFourProcessesThousandServers) {
  const int per_worker = StressServersPerWorker();
  ASSERT_GT(per_worker, 0);
  const StressFigures figures = RunStress(per_worker);
  if (std::getenv("FIXTURES_PORT_STRESS_SERVERS") == nullptr) {
    EXPECT_GE(figures.started, 1000);
  }
}

// The same in a window of 63 ports, so the 4 processes (up to 36 reservations at once) contend
// for the same ports all the time and each port passes from process to process many times.
TEST(Ports, StressFourProcessesContendingForSixtyThreePorts) {
  const int per_worker = StressServersPerWorker();
  ASSERT_GT(per_worker, 0);
  // Windows of 64 ports outside the ephemeral range, where the kernel never puts an outgoing
  // connection: above it first, where ReservePort's default range (below it, normally) does
  // not go, so the other tests never meet this one. The first port of a window, reserved
  // here, marks it as ours: a concurrent run of this test (two jobs on one host) takes another
  // window instead of exhausting this one. Anyone else holding a few of its ports is skipped.
  const auto [low, high] = EphemeralRange();
  ASSERT_GT(low, 0) << "cannot read /proc/sys/net/ipv4/ip_local_port_range";
  std::vector<int> windows;
  for (int first = high + 1; first + 63 <= 65535 && windows.size() < 16; first += 64) windows.push_back(first);
  for (int first = low - 64; first >= 1024 && windows.size() < 32; first -= 64) windows.push_back(first);
  PortReservation window;
  for (int first : windows) {
    if ((window = TryReservePort(first))) break;
  }
  ASSERT_TRUE(window) << "no free window of 64 ports outside the ephemeral range " << low << "-" << high;
  const std::string range = std::to_string(window.port() + 1) + "-" + std::to_string(window.port() + 63);
  const StressFigures figures = RunStress(per_worker, {{"FIXTURES_PORT_RANGE", range}});
  EXPECT_LE(figures.ports, 63u);
  EXPECT_GT(figures.reuses, 0);
}

}  // namespace
}  // namespace fixtures
