#include "fixtures/expect.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/interactive.hpp"
#include "fixtures/socket_client.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

constexpr auto kPatience = 120s;  // bounds a failure only
constexpr auto kShort = 200ms;    // for the waits that are meant to time out

// The same bytes from two kinds of stream: each source sends its parts one at a time, the
// first at once and each next one when the reader sends a line ("go"), then waits for the
// reader's end of file and ends its own stream. A part thus arrives only after the test has
// seen the one before: a match across two parts is split across two arrivals.

// A program that prints the parts (sh's printf builtin writes at once, unbuffered).
Interactive ProgramSource(const std::vector<std::string>& parts) {
  InteractiveOptions options{.command = {"/bin/sh", "-c",
                                         "for part in \"$@\"; do printf '%s' \"$part\"; "
                                         "read -r go || exit 0; done; read -r go; exit 0",
                                         "sh"},
                             .timeout = kPatience};
  options.command.insert(options.command.end(), parts.begin(), parts.end());
  return Interactive(std::move(options));
}

// A server on 127.0.0.1 that sends the parts to its one client.
class SocketSource {
 public:
  explicit SocketSource(std::vector<std::string> parts) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, parts = std::move(parts)] { Serve(parts); });
  }
  ~SocketSource() {
    ::shutdown(listener_, SHUT_RDWR);  // ends an accept that no client came to
    thread_.join();
    ::close(listener_);
  }
  SocketSource(const SocketSource&) = delete;
  SocketSource& operator=(const SocketSource&) = delete;
  int port() const { return port_; }

 private:
  void Serve(const std::vector<std::string>& parts) {
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    for (const std::string& part : parts) {
      for (std::size_t sent = 0; sent < part.size();) {
        ssize_t n = ::send(fd, part.data() + sent, part.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      if (!ReadLine(fd)) break;
    }
    while (ReadLine(fd)) {
    }
    ::close(fd);  // the end of the stream
  }
  // Reads through a "\n"; false at the end of the stream.
  static bool ReadLine(int fd) {
    char c = 0;
    while (::recv(fd, &c, 1, 0) == 1) {
      if (c == '\n') return true;
    }
    return false;
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string Joined(const std::vector<std::string>& groups) {
  std::string joined;
  for (const std::string& group : groups) joined += (joined.empty() ? "" : "|") + group;
  return joined;
}

template <typename Call>
std::string KindOf(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return ToString(e.kind());
  }
  return "no error";
}

const std::vector<std::string> kParts = {"alpha 1\nbeta 2\ngam",
                                         "ma 3\n" + std::string(100000, 'x') + "\ndelta tail"};

// The same script on either kind of client: what every Expect gave, in order.
template <typename Client>
std::vector<std::string> RunScript(Client& client) {
  std::vector<std::string> seen;
  // A zero-width match at the start: waits for the first part, consumes nothing.
  seen.push_back(Joined(client.Expect(R"(\A(?=[\s\S]*gam))", kPatience)));
  // "^" and "$" at line boundaries inside the data; "." stops at a newline.
  seen.push_back(Joined(client.Expect(R"(^(\w+) (\d)$)", kPatience)));
  seen.push_back(Joined(client.Expect(R"(^b(.+))", kPatience)));
  client.set_search_window(256 * 1024);  // room for a match of 100000 bytes
  client.SendLine("go");
  // Across the two arrivals: "gam" came with the first part, "ma 3\n" with the second.
  seen.push_back(Joined(client.Expect(R"(gam(ma \d)$)", kPatience)));
  // A match larger than one read of the stream (64 KiB, for a pipe as for a socket).
  seen.push_back(std::to_string(client.Expect(R"(^x{100000}$)", kPatience).at(0).size()));
  // "$" is not the end of what has arrived so far while the stream goes on...
  seen.push_back(KindOf([&] { client.Expect(R"(tail$)", kShort); }));
  // ... "\z" is; "(?s)" lets "." cross the newline.
  seen.push_back(Joined(client.Expect(R"((?s)\A.(\w+) \w+\z)", kPatience)));
  client.SendLine("go");
  client.SendEof();
  client.ExpectEof(kPatience);
  seen.push_back(std::string(client.unread()));
  return seen;
}

TEST(Expect, TheSameBytesGiveTheSameMatchesFromAProgramAndFromASocket) {
  Interactive program = ProgramSource(kParts);
  const std::vector<std::string> from_program = RunScript(program);
  SocketSource server(kParts);
  SocketClient client = ConnectTcp(server.port(), kPatience);
  const std::vector<std::string> from_socket = RunScript(client);
  EXPECT_EQ(from_program, from_socket);
  EXPECT_THAT(from_program, ElementsAre("", "alpha 1|alpha|1", "beta 2|eta 2", "gamma 3|ma 3",
                                        "100000", "kTimeout", "\ndelta tail|delta", ""));
}

// "$" matches at the end of the stream once it has ended.
template <typename Client>
std::string DollarAtTheEnd(Client& client) {
  client.Expect(R"(\A(?=[\s\S]*tail))", kPatience);  // the part has arrived
  client.SendEof();
  return Joined(client.Expect(R"((\w+)$)", kPatience));
}

TEST(Expect, DollarMatchesAtTheEndOnceTheStreamHasEnded) {
  const std::vector<std::string> parts = {"head tail"};
  Interactive program = ProgramSource(parts);
  EXPECT_EQ(DollarAtTheEnd(program), "tail|tail");
  SocketSource server(parts);
  SocketClient client = ConnectTcp(server.port(), kPatience);
  EXPECT_EQ(DollarAtTheEnd(client), "tail|tail");
}

// A search after an arrival covers only the window before it, except the one after the end of
// the stream (which lets "$" match at the end): that one searches every unread byte, so a
// match that needs the end does not depend on when the end arrived.
template <typename Client>
std::vector<std::string> WindowScript(Client& client) {
  std::vector<std::string> seen;
  EXPECT_EQ(client.search_window(), kDefaultSearchWindow);
  client.Expect(R"(\A(?=[\s\S]*end))", kPatience);  // all has arrived; the stream goes on
  client.set_search_window(16);
  client.SendEof();  // the source ends its stream
  // "$" needs the end, which comes after the window moved past "start-": the one full search
  // after the end still finds the whole match (it does not depend on the arrivals).
  seen.push_back(std::to_string(client.Expect(R"(start-f*end$)", kPatience).at(0).size()));
  seen.push_back(std::string(client.unread()));
  return seen;
}

TEST(Expect, AMatchThatNeedsTheEndIsFoundWhateverTheWindow) {
  const std::vector<std::string> parts = {"start-" + std::string(200, 'f') + "end"};
  Interactive program = ProgramSource(parts);
  EXPECT_THAT(WindowScript(program), ElementsAre("209", ""));
  SocketSource server(parts);
  SocketClient client = ConnectTcp(server.port(), kPatience);
  EXPECT_THAT(WindowScript(client), ElementsAre("209", ""));
}

// ReadLine returns a line without its "\n" and a "\r" just before it, from a program as from a
// socket, also when the "\r" and the "\n" come in two arrivals; any other "\r" stays.
template <typename Client>
std::vector<std::string> LinesScript(Client& client) {
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) lines.push_back(client.ReadLine(kPatience));
  client.SendLine("go");
  lines.push_back(client.ReadLine(kPatience));
  lines.push_back(client.ReadLine(kPatience));
  client.SendLine("go");
  client.SendEof();
  lines.push_back(client.ReadToEof(kPatience));
  return lines;
}

TEST(Expect, ReadLineTakesAwayTheCarriageReturnOfACrlfLineOnly) {
  const std::vector<std::string> parts = {"crlf\r\nlf\nmid\rline\r\ntwo\r\r\n\r\n\rlead\nsplit\r",
                                          "\nlast\n\rend\r"};
  const std::vector<std::string> expected = {"crlf", "lf", "mid\rline", "two\r", "", "\rlead", "split", "last",
                                             "\rend\r"};
  Interactive program = ProgramSource(parts);
  EXPECT_EQ(LinesScript(program), expected);
  SocketSource server(parts);
  SocketClient client = ConnectTcp(server.port(), kPatience);
  EXPECT_EQ(LinesScript(client), expected);
}

}  // namespace
}  // namespace fixtures
