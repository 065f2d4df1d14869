// fixtures_bench: ServerFixtures measured like the C lower bound (c_baseline.c), through the
// public API only, printing the same "key value" lines (times in ms; see README.md).
//
//   fixtures_bench [--server PATH] cycle N [port0|fixed]
//   fixtures_bench [--server PATH] wake N
//   fixtures_bench [--server PATH] flood BYTES [REPS]
//   fixtures_bench [--server PATH] stop N
//   fixtures_bench [--server PATH] stop-ignore GRACE_MS N
//   fixtures_bench [--server PATH] many [N]
//   fixtures_bench [--server PATH] alive [N]
//   fixtures_bench scan LINES          (failure patterns: no server; ns per line)
//
// PATH defaults to "refserver" next to this executable, else the one it was built with. Log
// files go to a fresh directory under $TMPDIR (or /tmp), removed at exit.
#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/core.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using fixtures::Clock;

std::string g_server;
std::string g_self;

// Thrown to main, so the log directory is still removed.
[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long long MonotonicNs(Clock::time_point t) {
  // libstdc++'s steady_clock is CLOCK_MONOTONIC on Linux, as refserver's stamp.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Nearest-rank percentile, as c_baseline.
double Percentile(const std::vector<double>& sorted, double p) {
  auto n = static_cast<long>(sorted.size());
  long rank = static_cast<long>(p / 100.0 * static_cast<double>(n) + 0.999999);
  rank = std::clamp(rank, 1L, n);
  return sorted[static_cast<std::size_t>(rank - 1)];
}

void Report(const char* name, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%s_min_ms %.3f\n", name, v.front());
  std::printf("%s_median_ms %.3f\n", name, Percentile(v, 50));
  std::printf("%s_p95_ms %.3f\n", name, Percentile(v, 95));
  std::printf("%s_p99_ms %.3f\n", name, Percentile(v, 99));
}

long PeakRssKib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::size_t CountEntries(const char* dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++n;
  return n;
}

long VmRssKib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = -1;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      break;
    }
    status.ignore(1 << 12, '\n');
  }
  return value;
}

const fixtures::Pattern kListening(R"(^listening on 127\.0\.0\.1 port (\d+)$)");

fixtures::ServerOptions RefServer(std::vector<std::string> args) {
  fixtures::ServerOptions options;
  options.command = {g_server};
  options.command.insert(options.command.end(), args.begin(), args.end());
  options.ready = fixtures::OutputMatches(kListening);
  return options;
}

// Start, one GET /, Stop (SIGTERM), destroy. port0: "--port 0", port read from the ready line
// (as c_baseline); fixed: "--port {port}", a port the library picks.
int RunCycle(int n, bool fixed_port) {
  auto options = RefServer({"--port", fixed_port ? "{port}" : "0"});
  std::vector<double> ready, cycle, teardown;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    Clock::time_point t_ready, t_term;
    {
      fixtures::Server server(options);
      server.Start();
      t_ready = Clock::now();
      {
        auto client = server.http();
        auto res = client.Get("/");
        if (!res || res->status != 200 || res->body != "ok\n") Fail("unexpected HTTP answer");
      }
      t_term = Clock::now();
      auto status = server.Stop();
      if (!status.success()) Fail("server " + status.Describe() + " on SIGTERM");
    }
    auto t_end = Clock::now();
    ready.push_back(Ms(t_ready - t0));
    teardown.push_back(Ms(t_end - t_term));
    cycle.push_back(Ms(t_end - t0));
  }
  double total = Ms(Clock::now() - start);
  std::printf("port %s\n", fixed_port ? "fixed" : "port0");
  std::printf("cycles %d\n", n);
  Report("ready", ready);
  Report("cycle", cycle);
  Report("teardown", teardown);
  std::printf("cycles_per_s %.1f\n", n / (total / 1e3));
  return 0;
}

// wake = Start() returned minus the stamp the server took just before writing its line;
// logged = the reader thread's time of that line (OutputLog) minus the stamp.
int RunWake(int n) {
  auto options = RefServer({"--port", "0", "--stamp"});
  options.ready = fixtures::OutputMatches(R"(^listening on 127\.0\.0\.1 port (\d+) t=(\d+)$)");
  std::vector<double> wake, logged;
  for (int i = 0; i < n; ++i) {
    fixtures::Server server(options);
    server.Start();
    long long now_ns = MonotonicNs(Clock::now());
    long long stamp = std::stoll(server.ready_groups().at(2));
    wake.push_back(static_cast<double>(now_ns - stamp) / 1e6);
    for (const auto& line : server.log().Lines()) {
      if (line.stream == fixtures::Stream::kOut) {
        logged.push_back(static_cast<double>(MonotonicNs(line.time) - stamp) / 1e6);
        break;
      }
    }
    server.Stop();
  }
  std::printf("starts %d\n", n);
  Report("wake", wake);
  Report("logged", logged);
  return 0;
}

// Checks the log file holds every line of the flood, in order: returns the out records.
long long CheckFloodLog(const fs::path& file, long long bytes) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) Fail("cannot open " + file.string());
  std::vector<char> buf(1 << 20);
  std::string line;
  long long records = 0, text_bytes = 0;
  auto check = [&](std::string_view rec) {
    // "+S.UUUUUU out| text"
    auto sp = rec.find(' ');
    if (sp == std::string_view::npos) Fail("malformed log record");
    auto rest = rec.substr(sp + 1);
    if (rest.substr(0, 4) == "sys|") return;
    if (rest.substr(0, 5) != "out| " && rest.substr(0, 5) != "out~ ") Fail("unexpected record");
    auto text = rest.substr(5);
    char expected[32];
    std::snprintf(expected, sizeof expected, "line %012lld ", records);
    if (text.size() >= 18 && text.substr(0, 18) != expected) Fail("line missing or out of order");
    text_bytes += static_cast<long long>(text.size()) + (rest[3] == '|' ? 1 : 0);
    ++records;
  };
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    std::string_view chunk(buf.data(), n);
    while (!chunk.empty()) {
      auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        line.append(chunk);
        break;
      }
      if (line.empty()) {
        check(chunk.substr(0, nl));
      } else {
        line.append(chunk.substr(0, nl));
        check(line);
        line.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  std::fclose(f);
  if (text_bytes != bytes) {
    Fail("log file has " + std::to_string(text_bytes) + " bytes of output, not " +
         std::to_string(bytes));
  }
  return records;
}

// One flood in this (fresh) process, so ru_maxrss is the flood's own.
int RunFloodOnce(long long bytes, const fs::path& dir) {
  fixtures::ProcessOptions options;
  options.command = {g_server, "--flood", std::to_string(bytes)};
  options.log.file = dir / "flood.log";
  auto t0 = Clock::now();
  Clock::time_point t1;
  {
    fixtures::Process process(options);
    auto status = process.Wait();
    t1 = Clock::now();
    if (!status.success()) Fail("flood child " + status.Describe());
  }
  long peak = PeakRssKib();
  long long file_bytes = static_cast<long long>(fs::file_size(options.log.file));
  long long records = CheckFloodLog(options.log.file, bytes);
  fs::remove(options.log.file);
  std::printf("ms %.3f\npeak_rss_kib %ld\nrecords %lld\nlog_file_bytes %lld\n", Ms(t1 - t0), peak,
              records, file_bytes);
  return 0;
}

// Runs this program with `args` and returns its "key value" output.
std::map<std::string, std::string> RunSelf(const std::vector<std::string>& args) {
  std::vector<std::string> all = {g_self, "--server", g_server};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) Fail("pipe2");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
  pid_t pid;
  int err = posix_spawn(&pid, g_self.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  if (err != 0) Fail("spawn of " + g_self + ": " + std::strerror(err));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("read");
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Fail("flood subprocess failed");
  std::map<std::string, std::string> kv;
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto nl = out.find('\n', pos);
    std::string row = out.substr(pos, nl - pos);
    auto sp = row.find(' ');
    if (sp != std::string::npos) kv[row.substr(0, sp)] = row.substr(sp + 1);
    pos = nl == std::string::npos ? out.size() : nl + 1;
  }
  return kv;
}

int RunFlood(long long bytes, int reps) {
  std::vector<double> ms;
  long peak = 0;
  std::string records, file_bytes;
  for (int r = 0; r < reps; ++r) {
    auto kv = RunSelf({"flood-once", std::to_string(bytes)});
    ms.push_back(std::stod(kv.at("ms")));
    peak = std::max(peak, std::stol(kv.at("peak_rss_kib")));
    records = kv.at("records");
    file_bytes = kv.at("log_file_bytes");
  }
  std::sort(ms.begin(), ms.end());
  double median = Percentile(ms, 50);
  std::printf("flood_bytes %lld\nflood_reps %d\n", bytes, reps);
  std::printf("flood_median_ms %.3f\nflood_min_ms %.3f\n", median, ms.front());
  std::printf("flood_mib_s %.1f\n", static_cast<double>(bytes) / (1024.0 * 1024.0) / (median / 1e3));
  std::printf("peak_rss_kib %ld\n", peak);
  std::printf("flood_lines_checked %s\nlog_file_bytes %s\n", records.c_str(), file_bytes.c_str());
  return 0;
}

// Cooperating server: Stop() (SIGTERM to reaped) and the destruction after it.
int RunStop(int n) {
  auto options = RefServer({"--port", "0"});
  std::vector<double> teardown, destroy;
  for (int i = 0; i < n; ++i) {
    Clock::time_point t_term, t_stopped;
    {
      fixtures::Server server(options);
      server.Start();
      t_term = Clock::now();
      auto status = server.Stop();
      t_stopped = Clock::now();
      if (!status.success()) Fail("server " + status.Describe() + " on SIGTERM");
    }
    auto t_end = Clock::now();
    teardown.push_back(Ms(t_stopped - t_term));
    destroy.push_back(Ms(t_end - t_stopped));
  }
  std::printf("stops %d\n", n);
  Report("teardown", teardown);
  Report("destroy", destroy);
  return 0;
}

// Server ignoring SIGTERM; overshoot = Stop() returned minus (Stop() called + grace).
int RunStopIgnore(int grace_ms, int n) {
  auto options = RefServer({"--port", "0", "--ignore-term"});
  options.stop = fixtures::StopPolicy{SIGTERM, std::chrono::milliseconds(grace_ms)};
  std::vector<double> overshoot;
  for (int i = 0; i < n; ++i) {
    fixtures::Server server(options);
    server.Start();
    auto t_term = Clock::now();
    auto status = server.Stop();
    overshoot.push_back(Ms(Clock::now() - (t_term + options.stop.grace)));
    if (!status.signaled() || status.signal() != SIGKILL) Fail("not killed: " + status.Describe());
  }
  std::printf("grace_ms %d\nstops %d\n", grace_ms, n);
  Report("overshoot", overshoot);
  return 0;
}

// What the library keeps for the whole test process once it has run a server (its I/O thread
// and that thread's epoll, eventfd and timerfd, the watchdog's pipe): made before a count of
// what servers leave behind.
void WarmUp(const fixtures::ServerOptions& options) {
  fixtures::Server server(options);
  server.Start();
  server.Stop();
}

// N servers started and stopped one after another; nothing may be left behind.
int RunMany(int n) {
  auto options = RefServer({"--port", "0"});
  WarmUp(options);
  std::size_t fds_before = CountEntries("/proc/self/fd");
  std::size_t threads_before = CountEntries("/proc/self/task");
  long rss_before = VmRssKib();
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    fixtures::Server server(options);
    server.Start();
    server.Stop();
  }
  double total = Ms(Clock::now() - t0);
  std::size_t fds_after = CountEntries("/proc/self/fd");
  std::size_t threads_after = CountEntries("/proc/self/task");
  ::malloc_trim(0);  // what malloc keeps for later is not held by the servers
  long rss_after = VmRssKib();
  int children_left = 0;
  while (::waitpid(-1, nullptr, WNOHANG) > 0) ++children_left;  // zombies nobody reaped
  std::printf("servers %d\nmany_total_ms %.1f\nmany_per_server_ms %.3f\n", n, total, total / n);
  std::printf("fds_before %zu\nfds_after %zu\nthreads_before %zu\nthreads_after %zu\n", fds_before,
              fds_after, threads_before, threads_after);
  std::printf("rss_kib_before %ld\nrss_kib_after %ld\nzombies_left %d\n", rss_before, rss_after,
              children_left);
  return 0;
}

// The failure-pattern scan the gtest glue runs over each test's lines: LINES flood-like 100-byte
// lines, then a 4-line AddressSanitizer report. The default patterns as one Boost.Regex
// alternation (what FailurePatterns does), each pattern tried alone, and std::regex with the
// same alternation; median of 5 rounds each, in ns per line.
int RunScan(int count) {
  std::vector<fixtures::Line> lines;
  lines.reserve(static_cast<std::size_t>(count) + 4);
  auto now = Clock::now();
  char text[128];
  for (int i = 0; i < count; ++i) {
    std::snprintf(text, sizeof text, "%-99d", i);
    lines.push_back({static_cast<std::uint64_t>(i), fixtures::Stream::kOut, now, text, true});
  }
  for (const char* report : {"==42==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6030",
                             "WRITE of size 4 at 0x603000000060 thread T0", "    #0 0x55ba1190378e in main t.cpp:5",
                             "SUMMARY: AddressSanitizer: heap-buffer-overflow t.cpp:5 in main"}) {
    lines.push_back({lines.size(), fixtures::Stream::kErr, now, report, true});
  }
  const fixtures::FailurePatterns patterns;
  std::string alternation;
  for (const auto& p : patterns.patterns()) alternation += (alternation.empty() ? "(?:" : "|(?:") + p.start.str() + ")";
  const std::regex std_alternation(alternation, std::regex::ECMAScript | std::regex::optimize);
  auto median_ns = [&](auto&& round) {
    std::vector<double> ns;
    for (int r = 0; r < 5; ++r) {
      auto begin = Clock::now();
      round();
      ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - begin).count() /
                   static_cast<double>(lines.size()));
    }
    std::sort(ns.begin(), ns.end());
    return ns[2];
  };
  std::size_t found = 0, found_each = 0, found_std = 0;
  double combined = median_ns([&] { found = patterns.Scan(lines).size(); });
  double each = median_ns([&] {
    found_each = 0;
    for (const auto& line : lines) {
      for (const auto& p : patterns.patterns()) {
        if (p.start.Find(line.text)) {
          ++found_each;
          break;
        }
      }
    }
  });
  double std_regex = median_ns([&] {
    found_std = 0;
    for (const auto& line : lines) found_std += std::regex_search(line.text, std_alternation) ? 1 : 0;
  });
  std::printf("scan_lines %zu\nscan_reports_found %zu %zu %zu\n", lines.size(), found, found_each, found_std);
  std::printf("scan_combined_ns_per_line %.1f\nscan_each_pattern_ns_per_line %.1f\nscan_std_regex_ns_per_line %.1f\n",
              combined, each, std_regex);
  return found == 1 ? 0 : 1;
}

// N servers alive at once: all started (each ready), then all stopped. Descriptors, threads
// and RSS before, while all run, and after; the soft descriptor limit is raised to the hard one.
int RunAlive(int n) {
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  auto options = RefServer({"--port", "0"});
  WarmUp(options);
  std::size_t fds_before = CountEntries("/proc/self/fd");
  std::size_t threads_before = CountEntries("/proc/self/task");
  long rss_before = VmRssKib();
  std::size_t fds_during = 0, threads_during = 0;
  long rss_during = 0;
  double start_ms = 0, stop_ms = 0;
  {
    std::vector<std::unique_ptr<fixtures::Server>> servers;
    servers.reserve(static_cast<std::size_t>(n));
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      servers.push_back(std::make_unique<fixtures::Server>(options));
      servers.back()->Start();
    }
    auto t1 = Clock::now();
    fds_during = CountEntries("/proc/self/fd");
    threads_during = CountEntries("/proc/self/task");
    rss_during = VmRssKib();
    for (auto& server : servers) {
      auto status = server->Stop();
      if (!status.success()) Fail("server " + status.Describe() + " on SIGTERM");
    }
    servers.clear();
    start_ms = Ms(t1 - t0);
    stop_ms = Ms(Clock::now() - t1);
  }
  std::size_t fds_after = CountEntries("/proc/self/fd");
  std::size_t threads_after = CountEntries("/proc/self/task");
  ::malloc_trim(0);  // what malloc keeps for later is not held by the servers
  long rss_after = VmRssKib();
  int children_left = 0;
  while (::waitpid(-1, nullptr, WNOHANG) > 0) ++children_left;
  std::printf("alive_servers %d\nalive_start_all_ms %.1f\nalive_stop_all_ms %.1f\n", n, start_ms, stop_ms);
  std::printf("alive_fds_before %zu\nalive_fds_during %zu\nalive_fds_after %zu\n", fds_before, fds_during, fds_after);
  std::printf("alive_fds_per_server %.2f\n", static_cast<double>(fds_during - fds_before) / n);
  std::printf("alive_threads_before %zu\nalive_threads_during %zu\nalive_threads_after %zu\n", threads_before,
              threads_during, threads_after);
  std::printf("alive_rss_kib_before %ld\nalive_rss_kib_during %ld\nalive_rss_kib_after %ld\n", rss_before,
              rss_during, rss_after);
  std::printf("alive_zombies_left %d\n", children_left);
  return 0;
}

struct UsageError {};

[[noreturn]] void Usage() { throw UsageError{}; }

int PrintUsage() {
  std::fprintf(stderr,
               "usage: fixtures_bench [--server PATH] cycle N [port0|fixed]\n"
               "       fixtures_bench [--server PATH] wake N\n"
               "       fixtures_bench [--server PATH] flood BYTES [REPS]\n"
               "       fixtures_bench [--server PATH] stop N\n"
               "       fixtures_bench [--server PATH] stop-ignore GRACE_MS N\n"
               "       fixtures_bench [--server PATH] many [N]\n"
               "       fixtures_bench [--server PATH] alive [N]\n"
               "       fixtures_bench scan LINES\n");
  return 2;
}

int Positive(const char* s) {
  int v = std::atoi(s);
  if (v <= 0) Usage();
  return v;
}

// A fresh directory for log files, removed at exit.
struct TempDir {
  fs::path path;
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/fixtures_bench.XXXXXX";
    if (!::mkdtemp(pattern.data())) Fail("mkdtemp " + pattern + ": " + std::strerror(errno));
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  g_self = fs::read_symlink("/proc/self/exe").string();
  int i = 1;
  if (argc > 2 && std::strcmp(argv[1], "--server") == 0) {
    g_server = argv[2];
    i = 3;
  } else {
    auto next_to_us = fs::path(g_self).parent_path() / "refserver";
    g_server = fs::exists(next_to_us) ? next_to_us.string() : FIXTURES_BENCH_REFSERVER;
  }
  if (argc - i < 1) return PrintUsage();
  std::string mode = argv[i];
  int args = argc - i - 1;
  const char* a1 = args > 0 ? argv[i + 1] : nullptr;
  const char* a2 = args > 1 ? argv[i + 2] : nullptr;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  TempDir logs;
  ::setenv("FIXTURES_LOG_DIR", logs.path.c_str(), 1);  // Server's default log files go here
  try {
    if (mode == "cycle" && a1) {
      if (a2 && std::strcmp(a2, "fixed") != 0 && std::strcmp(a2, "port0") != 0) Usage();
      return RunCycle(Positive(a1), a2 && std::strcmp(a2, "fixed") == 0);
    }
    if (mode == "wake" && a1) return RunWake(Positive(a1));
    if (mode == "flood" && a1) return RunFlood(std::atoll(a1), a2 ? Positive(a2) : 1);
    if (mode == "flood-once" && a1) return RunFloodOnce(std::atoll(a1), logs.path);
    if (mode == "stop" && a1) return RunStop(Positive(a1));
    if (mode == "stop-ignore" && a2) return RunStopIgnore(Positive(a1), Positive(a2));
    if (mode == "many") return RunMany(a1 ? Positive(a1) : 1000);
    if (mode == "alive") return RunAlive(a1 ? Positive(a1) : 1000);
    if (mode == "scan" && a1) return RunScan(Positive(a1));
    Usage();
  } catch (const UsageError&) {
    return PrintUsage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fixtures_bench: %s\n", e.what());
    return 1;
  }
}
