// Helper for tests/ports_test.cpp, driven by sub-commands (see Usage()). Every mode that waits
// is bounded: it ends on SIGTERM (default action) or, at the latest, on an alarm.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/error.hpp"
#include "fixtures/ports.hpp"
#include "fixtures/process.hpp"

namespace {

using namespace std::chrono_literals;

constexpr unsigned kLifetimeBoundSeconds = 900;  // no helper outlives a forgotten test

int Usage() {
  std::fputs(
      "usage: port_stress COMMAND ...\n"
      "  reserve N               ReservePort() N times, print 'reserved PORT' each, then\n"
      "                          'holding', and hold them until SIGTERM/SIGKILL\n"
      "  try PORT                TryReservePort(PORT): print 'reserved PORT' or 'taken PORT'\n"
      "  listen PORT             bind 127.0.0.1:PORT (SO_REUSEADDR) and listen: print\n"
      "                          'listening PORT', wait for SIGTERM; or print\n"
      "                          'bind failed PORT <error>' and exit 1\n"
      "  worker SERVERS CONCURRENCY\n"
      "                          start SERVERS 'listen' servers one after another on reserved\n"
      "                          ports, keeping up to CONCURRENCY alive; print\n"
      "                          'held PORT T0 T1' per reservation (CLOCK_MONOTONIC ns),\n"
      "                          'collision PORT ...', 'failure PORT ...' and finally\n"
      "                          'summary started=S collisions=C failures=F max_alive=M'.\n"
      "                          Once it holds min(SERVERS, CONCURRENCY) servers the first\n"
      "                          time, prints 'holding N' and reads a line from stdin before\n"
      "                          going on (a barrier for the test; end of input goes on too)\n"
      "A fixtures::Error exits 3 (kSystem) or 4 (other kinds), its message on stderr.\n",
      stderr);
  return 2;
}

void Print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

long long MonotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

[[noreturn]] void HoldUntilKilled() {
  ::alarm(kLifetimeBoundSeconds);
  while (true) ::pause();
}

int Listen(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (s < 0 || ::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s, 16) != 0) {
    Print("bind failed " + std::to_string(port) + " " + std::strerror(errno));
    return 1;
  }
  Print("listening " + std::to_string(port));
  HoldUntilKilled();
}

std::string SelfPath() {
  std::vector<char> buffer(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (n <= 0) throw fixtures::Error(fixtures::ErrorKind::kSystem, "readlink(/proc/self/exe) failed");
  return std::string(buffer.data(), static_cast<std::size_t>(n));
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// The stress worker: reservations and servers as a test suite would make them, many at once.
int Worker(int servers, int concurrency) {
  struct Running {
    fixtures::PortReservation reservation;
    long long reserved_at = 0;
    std::unique_ptr<fixtures::Process> server;
  };
  const std::string self = SelfPath();
  std::deque<Running> alive;
  int started = 0;
  int collisions = 0;
  int failures = 0;
  std::size_t max_alive = 0;
  auto retire = [](Running& running) {
    if (running.server) running.server->Stop({.signal = SIGTERM, .grace = 10s});  // reaped
    running.server.reset();
    const int port = running.reservation.port();
    const long long released_at = MonotonicNs();
    running.reservation.Release();
    Print("held " + std::to_string(port) + " " + std::to_string(running.reserved_at) + " " +
          std::to_string(released_at));
  };
  const fixtures::Pattern outcome(R"(^(listening|bind failed) )");
  for (int i = 0; i < servers; ++i) {
    if (alive.size() >= static_cast<std::size_t>(concurrency)) {
      retire(alive.front());
      alive.pop_front();
    }
    Running running;
    running.reservation = fixtures::ReservePort();
    running.reserved_at = MonotonicNs();
    const std::string port = std::to_string(running.reservation.port());
    try {
      fixtures::ProcessOptions options;
      options.command = {self, "listen", port};
      options.name = "listen-" + port;
      running.server = std::make_unique<fixtures::Process>(options);
      auto match = running.server->WaitForLine(outcome, fixtures::ScaleTimeout(60s));
      if (match.groups.at(1) == "listening") {
        ++started;
      } else {
        ++collisions;
        Print("collision " + port + " " + match.line.text);
      }
    } catch (const fixtures::Error& error) {
      ++failures;
      Print("failure " + port + " " + FirstLine(error.what()));
    }
    alive.push_back(std::move(running));
    max_alive = std::max(max_alive, alive.size());
    if (i + 1 == std::min(servers, concurrency)) {
      // The barrier: the test lets every worker go on only once all hold this many at once.
      Print("holding " + std::to_string(alive.size()));
      char line[64];
      (void)std::fgets(line, sizeof line, stdin);
    }
  }
  for (auto& running : alive) retire(running);
  Print("summary started=" + std::to_string(started) + " collisions=" + std::to_string(collisions) +
        " failures=" + std::to_string(failures) + " max_alive=" + std::to_string(max_alive));
  return 0;
}

int Run(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string_view command = argv[1];
  if (command == "reserve" && argc == 3) {
    std::vector<fixtures::PortReservation> held;
    for (int i = 0, n = std::atoi(argv[2]); i < n; ++i) {
      held.push_back(fixtures::ReservePort());
      Print("reserved " + std::to_string(held.back().port()));
    }
    Print("holding");
    HoldUntilKilled();
  }
  if (command == "try" && argc == 3) {
    const int port = std::atoi(argv[2]);
    auto reservation = fixtures::TryReservePort(port);
    Print((reservation ? "reserved " : "taken ") + std::to_string(port));
    return 0;
  }
  if (command == "listen" && argc == 3) return Listen(std::atoi(argv[2]));
  if (command == "worker" && argc == 4) return Worker(std::atoi(argv[2]), std::atoi(argv[3]));
  return Usage();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const fixtures::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return error.kind() == fixtures::ErrorKind::kSystem ? 3 : 4;
  }
}
