// One helper program for the tests, driven by sub-commands (see Usage()).
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "hostile.hpp"

namespace {

int Usage() {
  std::fputs(
      "usage: fixtures_helper COMMAND ...\n"
      "  print-ready TEXT        print TEXT on stdout, then wait for a signal\n"
      "  print-ready-err TEXT    same, on stderr\n"
      "  print-twice TEXT        print TEXT twice, then wait\n"
      "  ignore-term TEXT        ignore SIGTERM, print TEXT, wait\n"
      "  exit CODE [LINE...]     print each LINE on stderr, exit with CODE\n"
      "  show-file PATH          print the file's text and \"shown\" on stdout, wait\n"
      "  raise SIGNAL            print a line, then kill itself with SIGNAL (a number)\n"
      "  hostile                 write hostile bytes on stdout and stderr, exit 0\n"
      "  flood BYTES             write BYTES of 100-byte lines on stdout, exit 0\n"
      "  grandchild              fork a child that prints its pid and waits; print ready; wait\n"
      "  escape TEXT             fork a child that calls setsid and forks a grandchild, which\n"
      "                          prints 'escaped PID' and waits; the child exits; print TEXT,\n"
      "                          wait\n"
      "  daemonize PORT [FILE]   a server that daemonizes: fork a child that calls setsid and\n"
      "                          forks the daemon, then exit 0 (so does the child); the daemon\n"
      "                          listens on 127.0.0.1:PORT, then writes its pid to FILE, prints\n"
      "                          'daemon PID listening' on stderr and serves: each connection\n"
      "                          gets 'pid PID' and is closed; 'crash' on a connection makes it\n"
      "                          die of SIGSEGV\n"
      "  fds                     print each open descriptor above 2, then 'done'\n"
      "  env NAME                print NAME's value (or '<unset>')\n"
      "  pwd                     print the working directory\n"
      "  exit-later MS CODE LINE wait MS, print LINE on stderr, exit with CODE\n"
      "  unix-listen PATH        listen on the Unix socket PATH, print 'listening', wait\n"
      "  repl                    prompt '> ' (no newline); 'echo X' prints X, 'exit N' exits\n"
      "                          with N; end of input prints 'bye' and exits 0\n"
      "  stdio-buffered          print a line through default stdio buffering, wait for end\n"
      "                          of input, exit 0\n"
      "  listen-later MS PORT    print 'starting', wait MS, listen on 127.0.0.1:PORT, print\n"
      "                          'listening', wait\n"
      "  listen-when-told PORT   print 'waiting', read stdin up to a line 'listen', then\n"
      "                          listen on 127.0.0.1:PORT, print 'listening', wait\n"
      "  stdin-quit TEXT          ignore SIGTERM, print TEXT, read lines from stdin: 'quit'\n"
      "                          prints 'quit received' on stderr and exits 0; 'close' closes\n"
      "                          stdin and waits; end of input prints 'end of input', exits 4\n"
      "  flush-at-exit TEXT       like a server built with --coverage: an atexit handler prints\n"
      "                          'flushed at exit' on stderr; print TEXT; exit 0 on 'quit'\n"
      "                          on stdin; SIGTERM keeps its default action (no flush)\n"
      "  answer PORT N            listen on 127.0.0.1:PORT, print 'listening'; connection I\n"
      "                          prints 'connection I' on stderr and gets 'not yet I' while\n"
      "                          I <= N, then 'ok'; with N < 0 it gets nothing and stays open\n"
      "  ask PORT                 connect to 127.0.0.1:PORT and print the line it gets on\n"
      "                          stdout: exit 0 if it is 'ok', else 1 (like redis-cli ping);\n"
      "                          a refused connection is said on stderr, exit 1\n",
      stderr);
  return 2;
}

bool WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void WriteLine(int fd, std::string_view text) {
  std::string line(text);
  line += '\n';
  WriteAll(fd, line.data(), line.size());
}

[[noreturn]] void WaitForever() {
  while (true) ::pause();
}

// The helper plays a slow server: waiting here is the behaviour under test.
void SleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// Binds 127.0.0.1:port (SO_REUSEADDR, as a reserved port needs) and listens: the socket, or -1.
int ListeningSocket(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool listening = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && ::listen(fd, 16) == 0;
  return listening ? fd : -1;
}

bool ListenOnLoopback(int port) { return ListeningSocket(port) >= 0; }

int Fail(const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string_view command = argv[1];
  if ((command == "print-ready" || command == "print-ready-err") && argc == 3) {
    WriteLine(command == "print-ready" ? 1 : 2, argv[2]);
    WaitForever();
  }
  if (command == "print-twice" && argc == 3) {
    WriteLine(1, argv[2]);
    WriteLine(1, argv[2]);
    WaitForever();
  }
  if (command == "ignore-term" && argc == 3) {
    ::signal(SIGTERM, SIG_IGN);
    WriteLine(1, argv[2]);
    WaitForever();
  }
  if (command == "show-file" && argc == 3) {
    std::ifstream in(argv[2]);
    if (!in) return Fail(argv[2]);
    for (std::string line; std::getline(in, line);) WriteLine(1, line);
    WriteLine(1, "shown");
    WaitForever();
  }
  if (command == "exit" && argc >= 3) {
    for (int i = 3; i < argc; ++i) WriteLine(2, argv[i]);
    return std::atoi(argv[2]);
  }
  if (command == "raise" && argc == 3) {
    WriteLine(1, "about to raise");
    int sig = std::atoi(argv[2]);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return 0;
  }
  if (command == "hostile") {
    auto out = fixtures_test::HostileStdout();
    auto err = fixtures_test::HostileStderr();
    // Several writes of odd sizes, so lines straddle reads.
    for (std::size_t i = 0; i < out.size(); i += 65521) {
      WriteAll(1, out.data() + i, std::min<std::size_t>(65521, out.size() - i));
    }
    WriteAll(2, err.data(), err.size());
    return 0;
  }
  if (command == "flood" && argc == 3) {
    unsigned long long total = std::strtoull(argv[2], nullptr, 10);
    static char buffer[1 << 16];
    const std::size_t per_buffer = sizeof buffer / 100 * 100;
    unsigned long long line = 0;
    while (total > 0) {
      std::size_t size = static_cast<std::size_t>(std::min<unsigned long long>(total, per_buffer));
      for (std::size_t off = 0; off < size; off += 100) {
        std::snprintf(buffer + off, 101, "%-99llu", line++);
        buffer[off + 99] = '\n';
      }
      if (!WriteAll(1, buffer, size)) return 1;
      total -= size;
    }
    return 0;
  }
  if (command == "grandchild") {
    pid_t pid = ::fork();
    if (pid == 0) {
      WriteLine(1, "grandchild " + std::to_string(::getpid()));
      WaitForever();
    }
    WriteLine(1, "parent ready");
    WaitForever();
  }
  if (command == "escape" && argc == 3) {
    pid_t child = ::fork();
    if (child == 0) {
      ::setsid();
      if (::fork() == 0) {
        WriteLine(1, "escaped " + std::to_string(::getpid()));
        WaitForever();
      }
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);
    WriteLine(1, argv[2]);
    WaitForever();
  }
  if (command == "daemonize" && (argc == 3 || argc == 4)) {
    pid_t child = ::fork();
    if (child == 0) {
      ::setsid();
      if (::fork() != 0) ::_exit(0);
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return Fail("bind");
      if (::listen(fd, 16) != 0) return Fail("listen");
      const std::string pid = std::to_string(::getpid());
      if (argc == 4) {
        // Written whole under another name, then renamed, as daemons do.
        std::string temporary = std::string(argv[3]) + ".tmp";
        int out = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        WriteAll(out, (pid + "\n").data(), pid.size() + 1);
        ::close(out);
        ::rename(temporary.c_str(), argv[3]);
      }
      WriteLine(2, "daemon " + pid + " listening");
      while (true) {
        int client = ::accept(fd, nullptr, nullptr);
        if (client < 0) continue;
        WriteLine(client, "pid " + pid);
        char request[16] = {};
        if (::read(client, request, sizeof request - 1) > 0 && std::string_view(request).starts_with("crash")) {
          ::raise(SIGSEGV);
        }
        ::close(client);
      }
    }
    ::waitpid(child, nullptr, 0);
    return 0;
  }
  if (command == "fds") {
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
      int fd = std::atoi(entry.path().filename().c_str());
      if (fd <= 2) continue;
      std::error_code ec;
      auto target = std::filesystem::read_symlink(entry.path(), ec);
      // The directory iterator's own descriptor shows up too; it points to /proc/<pid>/fd.
      if (target.string().find("/fd") != std::string::npos && target.string().rfind("/proc/", 0) == 0) continue;
      WriteLine(1, "open fd " + std::to_string(fd) + " -> " + target.string());
    }
    WriteLine(1, "done");
    return 0;
  }
  if (command == "env" && argc == 3) {
    const char* value = std::getenv(argv[2]);
    WriteLine(1, value ? value : "<unset>");
    return 0;
  }
  if (command == "pwd") {
    WriteLine(1, std::filesystem::current_path().string());
    return 0;
  }
  if (command == "repl") {
    char line[4096];
    while (true) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
      if (std::fgets(line, sizeof line, stdin) == nullptr) break;
      std::string_view text(line);
      if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
      if (text.rfind("echo ", 0) == 0) std::printf("%.*s\n", static_cast<int>(text.size() - 5), text.data() + 5);
      else if (text.rfind("exit ", 0) == 0) {
        std::fflush(stdout);
        return std::atoi(text.data() + 5);
      } else std::printf("unknown: %.*s\n", static_cast<int>(text.size()), text.data());
    }
    std::printf("bye\n");
    return 0;
  }
  if (command == "stdio-buffered") {
    std::printf("hello from stdio\n");  // line-buffered on a terminal, held back on a pipe
    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
    }
    return 0;
  }
  if (command == "exit-later" && argc == 5) {
    SleepMs(std::atol(argv[2]));
    WriteLine(2, argv[4]);
    return std::atoi(argv[3]);
  }
  if (command == "unix-listen" && argc == 3) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", argv[2]);
    ::unlink(argv[2]);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return Fail("bind");
    if (::listen(fd, 16) != 0) return Fail("listen");
    WriteLine(1, "listening");
    WaitForever();
  }
  if (command == "listen-later" && argc == 4) {
    WriteLine(1, "starting");
    SleepMs(std::atol(argv[2]));
    if (!ListenOnLoopback(std::atoi(argv[3]))) return Fail("bind or listen");
    WriteLine(1, "listening");
    WaitForever();
  }
  if (command == "listen-when-told" && argc == 3) {
    WriteLine(1, "waiting");
    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr && std::string_view(line) != "listen\n") {
    }
    if (!ListenOnLoopback(std::atoi(argv[2]))) return Fail("bind or listen");
    WriteLine(1, "listening");
    WaitForever();
  }
  if (command == "stdin-quit" && argc == 3) {
    ::signal(SIGTERM, SIG_IGN);
    WriteLine(1, argv[2]);
    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
      std::string_view text(line);
      if (text == "quit\n") {
        WriteLine(2, "quit received");
        return 0;
      }
      if (text == "close\n") {
        ::close(0);
        WriteLine(2, "closed stdin");
        WaitForever();
      }
    }
    WriteLine(2, "end of input");
    return 4;
  }
  if (command == "flush-at-exit" && argc == 3) {
    // gcov writes its .gcda files, and LeakSanitizer its report, from the exit path like this.
    std::atexit([] { WriteLine(2, "flushed at exit"); });
    WriteLine(1, argv[2]);
    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
      if (std::string_view(line) == "quit\n") return 0;
    }
    WaitForever();  // stdin at its end (/dev/null): serve on until a signal
  }
  if (command == "answer" && argc == 4) {
    int fd = ListeningSocket(std::atoi(argv[2]));
    if (fd < 0) return Fail("bind or listen");
    WriteLine(1, "listening");
    const long answered = std::atol(argv[3]);
    for (long i = 1;; ++i) {
      int client = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return Fail("accept");
      WriteLine(2, "connection " + std::to_string(i));
      if (answered < 0) continue;  // kept open, unanswered
      WriteLine(client, i <= answered ? "not yet " + std::to_string(i) : "ok");
      ::close(client);
    }
  }
  if (command == "ask" && argc == 3) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      WriteLine(2, std::string("cannot connect to 127.0.0.1:") + argv[2] + ": " + std::strerror(errno));
      return 1;
    }
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
    WriteLine(1, line);
    return line == "ok" ? 0 : 1;
  }
  return Usage();
}
