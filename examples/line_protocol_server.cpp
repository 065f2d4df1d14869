// A tiny key-value store speaking a line protocol over TCP, to show a suite against a server
// that is not HTTP.
//   line_protocol_server --port N   (0: any free port; prints "kv listening on 127.0.0.1:P")
// One command per line, one answer line each:
//   SET key value -> OK            GET key -> VALUE value | NOT_FOUND
//   DEL key -> DELETED | NOT_FOUND  QUIT -> BYE, then the server closes the connection
//   anything else -> ERROR unknown command
// One thread per connection, one mutex around the map. Connections and commands are logged
// on stderr. SIGTERM stops it cleanly: no new connections, open ones shut down, exit 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

class Store {
 public:
  std::string Execute(std::string_view line) {
    auto word = [&line] {
      auto space = line.find(' ');
      std::string_view first = line.substr(0, space);
      line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
      return std::string(first);
    };
    std::string command = word();
    std::lock_guard lock(mutex_);
    if (command == "SET") {
      std::string key = word();
      if (key.empty()) return "ERROR usage: SET key value";
      values_[key] = std::string(line);
      return "OK";
    }
    if (command == "GET") {
      auto it = values_.find(word());
      return it == values_.end() ? "NOT_FOUND" : "VALUE " + it->second;
    }
    if (command == "DEL") return values_.erase(word()) ? "DELETED" : "NOT_FOUND";
    return "ERROR unknown command";
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> values_;
};

// The open connections, so that SIGTERM can shut them down.
class Connections {
 public:
  bool Add(int fd) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    fds_.push_back(fd);
    return true;
  }
  void Close(int fd) {  // removed before close: Stop never touches a reused descriptor
    std::lock_guard lock(mutex_);
    fds_.erase(std::find(fds_.begin(), fds_.end(), fd));
    ::close(fd);
  }
  void Stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // their reads return end of stream
  }

 private:
  std::mutex mutex_;
  std::vector<int> fds_;
  bool stopping_ = false;
};

bool SendLine(int fd, std::string line) {
  line += '\n';
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void Serve(int fd, int id, Store& store, Connections& connections) {
  std::fprintf(stderr, "kv: client %d connected\n", id);
  std::string pending;
  char buffer[4096];
  bool open = true;
  while (open) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; open && (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line = std::string_view(pending).substr(start, nl - start);
      if (line.ends_with('\r')) line.remove_suffix(1);
      std::fprintf(stderr, "kv: client %d: %.*s\n", id, static_cast<int>(line.size()), line.data());
      if (line == "QUIT") {
        SendLine(fd, "BYE");
        open = false;
      } else {
        open = SendLine(fd, store.Execute(line));
      }
    }
    pending.erase(0, start);
  }
  std::fprintf(stderr, "kv: client %d disconnected\n", id);
  connections.Close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: line_protocol_server --port N\n");
    return 2;
  }
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // inherited by every thread; main waits for it

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[2])));
  socklen_t size = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::listen(listener, 128) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    std::fprintf(stderr, "kv: cannot listen on 127.0.0.1:%s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  std::printf("kv listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);

  Store store;
  Connections connections;
  std::vector<std::thread> workers;  // joined at the end (only the acceptor adds to it)
  std::thread acceptor([&] {
    for (int id = 1;; ++id) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
      if (fd < 0) return;  // the listener was shut down
      if (!connections.Add(fd)) {
        ::close(fd);
        return;
      }
      workers.emplace_back(Serve, fd, id, std::ref(store), std::ref(connections));
    }
  });

  int sig = 0;
  sigwait(&term, &sig);
  std::fprintf(stderr, "kv: SIGTERM, shutting down\n");
  ::shutdown(listener, SHUT_RDWR);  // wakes the acceptor
  acceptor.join();
  connections.Stop();
  for (auto& worker : workers) worker.join();
  ::close(listener);
  std::fprintf(stderr, "kv: bye\n");
  return 0;
}
