// A line-protocol server for the socket client tests, on plain POSIX sockets, one thread per
// connection:
//   line_server PORT          listen on 127.0.0.1:PORT (0: any), print "listening on port P"
//   line_server unix PATH     listen on the Unix socket PATH, print "listening on PATH"
// Each line received is a command:
//   echo X         -> "X\n"
//   partial        -> "no newline" (no "\n")
//   crlf           -> "dos line\r\n"
//   PING\r         -> "+PONG\r\n" (a RESP ping: only a line ended by "\r\n" gets it)
//   PING           -> "-ERR PING needs CRLF\r\n" (ended by a bare "\n")
//   bytes TEXT     -> TEXT with "\r", "\n" and "\\" written as the bytes they stand for
//   lines N        -> "line 1\n" ... "line N\n", in one write
//   close          -> closes the connection
//   stop-reading   -> "stopped\n", then never reads this connection again (it stays open)
//   anything else  -> "unknown: <line>\n"
// On stdout: "accepted N", "end of stream N" when connection N reads end of stream, "closed N".
// SIGTERM ends it at once (exit 0).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

namespace {

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// "\r", "\n" and "\\" as the bytes they stand for; anything else as it is.
std::string Unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char next = text[++i];
    out += next == 'r' ? '\r' : next == 'n' ? '\n' : next;
  }
  return out;
}

void Say(const char* format, int n) {
  std::printf(format, n);
  std::fflush(stdout);
}

[[noreturn]] void BlockForever() {
  while (true) ::pause();  // every signal is blocked in this thread: never returns
}

// Handles one line; false when the connection is to be closed.
bool Handle(int fd, std::string_view line) {
  if (line.starts_with("echo ")) return SendAll(fd, std::string(line.substr(5)) + "\n");
  if (line == "partial") return SendAll(fd, "no newline");
  if (line == "crlf") return SendAll(fd, "dos line\r\n");
  if (line == "PING\r") return SendAll(fd, "+PONG\r\n");
  if (line == "PING") return SendAll(fd, "-ERR PING needs CRLF\r\n");
  if (line.starts_with("bytes ")) return SendAll(fd, Unescape(line.substr(6)));
  if (line.starts_with("lines ")) {
    int count = std::atoi(std::string(line.substr(6)).c_str());
    std::string out;
    for (int i = 1; i <= count; ++i) out += "line " + std::to_string(i) + "\n";
    return SendAll(fd, out);
  }
  if (line == "close") return false;
  if (line == "stop-reading") {
    SendAll(fd, "stopped\n");
    BlockForever();
  }
  return SendAll(fd, "unknown: " + std::string(line) + "\n");
}

void Serve(int fd, int id) {
  std::string pending;
  char buffer[64 * 1024];
  bool open = true;
  while (open) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) Say("end of stream %d\n", id);
      break;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; open && (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      open = Handle(fd, std::string_view(pending).substr(start, nl - start));
    }
    pending.erase(0, start);
  }
  ::close(fd);
  Say("closed %d\n", id);
}

int Fail(const char* what) {
  std::fprintf(stderr, "line_server: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool unix_socket = argc == 3 && std::strcmp(argv[1], "unix") == 0;
  if (argc != 2 && !unix_socket) {
    std::fprintf(stderr, "usage: line_server PORT | line_server unix PATH\n");
    return 2;
  }
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // every thread inherits it; main waits for it

  int listener = ::socket(unix_socket ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return Fail("socket");
  if (unix_socket) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (std::strlen(argv[2]) >= sizeof address.sun_path) return Fail("path too long");
    std::strcpy(address.sun_path, argv[2]);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return Fail("bind");
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
    int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return Fail("bind");
  }
  if (::listen(listener, 128) != 0) return Fail("listen");
  if (unix_socket) {
    std::printf("listening on %s\n", argv[2]);
  } else {
    sockaddr_in bound{};
    socklen_t size = sizeof bound;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &size);
    std::printf("listening on port %d\n", ntohs(bound.sin_port));
  }
  std::fflush(stdout);

  std::thread acceptor([listener] {
    for (int id = 1;; ++id) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        std::fprintf(stderr, "line_server: accept: %s\n", std::strerror(errno));
        return;
      }
      Say("accepted %d\n", id);
      std::thread(Serve, fd, id).detach();
    }
  });
  acceptor.detach();

  int sig = 0;
  sigwait(&term, &sig);
  std::printf("stopping on SIGTERM\n");
  std::fflush(stdout);
  if (unix_socket) ::unlink(argv[2]);
  std::_Exit(0);  // the connection threads may be blocked: end them with the process
}
