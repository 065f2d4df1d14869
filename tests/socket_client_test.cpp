#include "fixtures/socket_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/server.hpp"

namespace fixtures {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr auto kPatience = 120s;  // bounds a failure only
constexpr auto kShort = 200ms;    // for the waits that are meant to time out

template <typename Call>
Error ErrorOf(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::kSystem, "");
}

std::vector<std::string> ClientLines(const OutputLog& log) {
  std::vector<std::string> lines;
  for (const Line& line : log.Lines()) {
    if (line.stream == Stream::kClient) lines.push_back(line.text);
  }
  return lines;
}

// A TCP port on which nothing listens: bound (so no one else takes it), never listening.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ADD_FAILURE() << "cannot bind a socket";
    }
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class SocketClientTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.Start(); }

  SocketClient Connect(std::string label = "") {
    return ConnectTcp(server_.port(), kPatience, nullptr, std::move(label));
  }

  Server server_{{.command = {LINE_SERVER, "{port}"},
                  .ready = OutputMatches(R"(^listening on port (\d+)$)"),
                  .startup_timeout = kPatience}};
};

TEST_F(SocketClientTest, SendsAndReadsLines) {
  SocketClient client = Connect();
  client.SendLine("echo hello");
  EXPECT_EQ(client.ReadLine(kPatience), "hello");
  client.Send("echo wor");
  client.Send("ld\necho again\n");
  EXPECT_EQ(client.ReadLine(kPatience), "world");
  EXPECT_EQ(client.ReadLine(), "again");
  EXPECT_EQ(client.peer(), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_THAT(client.label(), MatchesRegex(R"(tcp#[0-9]+)"));
  EXPECT_TRUE(client.unread().empty());
}

// CRLF protocols (RESP, memcached, SMTP): ReadLine takes the "\r" of a "\r\n" away, and no
// other "\r".
TEST_F(SocketClientTest, ReadLineTakesAwayTheLineEndingWithItsCarriageReturn) {
  SocketClient client = Connect();
  client.SendLine("crlf");
  EXPECT_EQ(client.ReadLine(kPatience), "dos line");
  client.SendLine(R"(bytes mid\rline\n)");
  EXPECT_EQ(client.ReadLine(kPatience), "mid\rline");
  client.SendLine(R"(bytes two\r\r\n)");
  EXPECT_EQ(client.ReadLine(kPatience), "two\r");
  client.SendLine(R"(bytes \rfirst\n\r\n)");
  EXPECT_EQ(client.ReadLine(kPatience), "\rfirst");
  EXPECT_EQ(client.ReadLine(kPatience), "");
  // A "\r" at the end of what has arrived is not a line's end yet.
  client.SendLine(R"(bytes waits\r)");
  EXPECT_EQ(ErrorOf([&] { client.ReadLine(kShort); }).kind(), ErrorKind::kTimeout);
  client.SendLine(R"(bytes \nnext\r\n)");
  EXPECT_EQ(client.ReadLine(kPatience), "waits");
  EXPECT_EQ(client.ReadLine(kPatience), "next");
}

// SendLine ends a line with "\n" by default, with the line ending set otherwise: a RESP
// server answers PING only when it ends with "\r\n".
TEST_F(SocketClientTest, SendLineUsesTheLineEnding) {
  OutputLog timeline;
  SocketClient client = ConnectTcp(server_.port(), kPatience, &timeline, "redis");
  EXPECT_EQ(client.line_ending(), "\n");
  client.SendLine("PING");
  EXPECT_EQ(client.ReadLine(kPatience), "-ERR PING needs CRLF");
  client.SendLine("said");
  EXPECT_EQ(client.ReadUntil("\n", kPatience), "unknown: said\n");  // it received "said\n"
  client.set_line_ending("\r\n");
  EXPECT_EQ(client.line_ending(), "\r\n");
  client.SendLine("PING");
  EXPECT_EQ(client.ReadLine(kPatience), "+PONG");
  client.SendLine("said");
  EXPECT_EQ(client.ReadUntil("\n", kPatience), "unknown: said\r\n");  // it received "said\r\n"
  EXPECT_THAT(ClientLines(timeline), testing::Contains(R"(redis > PING\x0D\x0A)"));
  // The setting stays with the connection when the client is moved.
  SocketClient moved = std::move(client);
  moved.SendLine("PING");
  EXPECT_EQ(moved.ReadLine(kPatience), "+PONG");
}

TEST_F(SocketClientTest, LargeLinesGoBothWays) {
  SocketClient client = Connect();
  std::string payload(300000, 'x');
  payload[123456] = 'y';
  client.SendLine("echo " + payload, kPatience);
  EXPECT_EQ(client.ReadLine(kPatience), payload);
}

TEST_F(SocketClientTest, ReadUntilReturnsThroughTheDelimiter) {
  SocketClient client = Connect();
  client.SendLine("lines 3");
  EXPECT_EQ(client.ReadUntil("line 2\n", kPatience), "line 1\nline 2\n");
  EXPECT_EQ(client.ReadLine(kPatience), "line 3");
  EXPECT_EQ(ErrorOf([&] { client.ReadUntil(""); }).kind(), ErrorKind::kBadInput);
}

TEST_F(SocketClientTest, ReadExactlyReadsThatMany) {
  SocketClient client = Connect();
  client.SendLine("echo abcdef");
  EXPECT_EQ(client.ReadExactly(3, kPatience), "abc");
  EXPECT_EQ(client.ReadExactly(0, kPatience), "");
  EXPECT_EQ(client.ReadExactly(4, kPatience), "def\n");
}

TEST_F(SocketClientTest, ExpectReturnsCapturesAndConsumesThroughTheMatch) {
  SocketClient client = Connect();
  client.SendLine("lines 5");
  auto groups = client.Expect(R"(^line (\d)\nline (?<second>3)$)", kPatience);
  EXPECT_THAT(groups, ElementsAre("line 2\nline 3", "2", "3"));
  EXPECT_EQ(client.ReadLine(kPatience), "");  // the rest of line 3: its newline
  EXPECT_EQ(client.ReadLine(kPatience), "line 4");
}

TEST_F(SocketClientTest, ExpectCaretMeansALineStartAndDotStopsAtNewline) {
  SocketClient client = Connect();
  client.SendLine("lines 3");
  EXPECT_EQ(client.ReadExactly(3, kPatience), "lin");
  // Not "e 1" (a consumed byte precedes it), and ".+" stays within the line.
  EXPECT_THAT(client.Expect(R"(^line (.+))", kPatience), ElementsAre("line 2", "2"));
}

TEST_F(SocketClientTest, ExpectDollarWaitsForTheNewline) {
  SocketClient client = Connect();
  client.SendLine("partial");
  // A zero-width match waits until "no newline" has all arrived, and consumes nothing.
  EXPECT_THAT(client.Expect("(?=no newline)", kPatience), ElementsAre(""));
  EXPECT_EQ(client.unread(), "no newline");
  Error e = ErrorOf([&] { client.Expect(R"(no (\w+)$)", kShort); });
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  EXPECT_THAT(e.what(), HasSubstr(R"(/no (\w+)$/)"));
  // Without the anchor it matches what is there.
  EXPECT_THAT(client.Expect(R"(no (\w+))", kPatience), ElementsAre("no newline", "newline"));
}

TEST_F(SocketClientTest, ReadLineTimeoutSaysWhatWasReceived) {
  SocketClient client = ConnectTcp(server_.port(), kPatience, &server_.log(), "slow");
  client.SendLine("partial");
  client.Expect("(?=no newline)", kPatience);
  Error e = ErrorOf([&] { client.ReadLine(kShort); });
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  const std::string peer = "127.0.0.1:" + std::to_string(server_.port());
  EXPECT_THAT(e.what(), AllOf(HasSubstr("slow to " + peer), HasSubstr("waiting for a line"),
                              HasSubstr("timed out after " + std::string("200ms")),
                              HasSubstr(R"(received and not consumed (10 bytes): "no newline")")));
  // The timeline shows when the test gave up.
  EXPECT_THAT(ClientLines(server_.log()),
              testing::Contains(AllOf(HasSubstr("slow timed out after "),
                                      HasSubstr(" waiting for a line"))));
  // Nothing was lost: the bytes are still there for the next read.
  EXPECT_EQ(client.ReadExactly(10, kPatience), "no newline");
}

TEST_F(SocketClientTest, EveryTimeoutNamesItsWait) {
  SocketClient client = Connect();
  client.SendLine("echo a\x01\xff");
  EXPECT_EQ(client.ReadExactly(1, kPatience), "a");
  client.Expect("(?=\\x01\\xff\\n)", kPatience);
  // The unread bytes are escaped as the output log escapes lines.
  const char* shown = R"(received and not consumed (3 bytes): "\x01\xFF\x0A")";
  EXPECT_THAT(ErrorOf([&] { client.ReadExactly(12, kShort); }).what(),
              AllOf(HasSubstr("waiting for 12 bytes"), HasSubstr(shown)));
  EXPECT_THAT(ErrorOf([&] { client.ReadUntil("END\r\n", kShort); }).what(),
              AllOf(HasSubstr(R"(waiting for "END\x0D\x0A")"), HasSubstr(shown)));
  EXPECT_THAT(ErrorOf([&] { client.Expect("z+", kShort); }).what(),
              AllOf(HasSubstr("waiting for /z+/"), HasSubstr(shown)));
  client.ReadLine(kPatience);
  Error e = ErrorOf([&] { client.ExpectEof(kShort); });
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("waiting for the peer to close"),
                              HasSubstr("timed out after " + std::string("200ms")),
                              HasSubstr("received and not consumed: nothing")));
}

TEST_F(SocketClientTest, LongUnreadDataIsShortenedInMessages) {
  SocketClient client = Connect();
  client.SendLine("echo " + std::string(5000, 'z'));
  client.Expect("(?=z{5000})", kPatience);
  Error e = ErrorOf([&] { client.ReadUntil("never", kShort); });
  // The last bytes: what arrived most recently says most about a wait that failed.
  EXPECT_THAT(e.what(), HasSubstr("(5001 bytes): \"[... 3977 bytes before] " + std::string(1023, 'z') + "\\x0A\""));
}

TEST_F(SocketClientTest, PeerClosingEndsALongReadAtOnce) {
  SocketClient client = Connect();
  client.SendLine("echo last words");
  client.SendLine("close");
  EXPECT_EQ(client.ReadLine(kPatience), "last words");
  auto begin = Clock::now();
  Error e = ErrorOf([&] { client.ReadLine(kPatience); });
  EXPECT_LT(Clock::now() - begin, kPatience / 2);
  EXPECT_EQ(e.kind(), ErrorKind::kClosed);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("the peer closed the connection before a line came"),
                              HasSubstr("received and not consumed: nothing")));
}

TEST_F(SocketClientTest, ServerExitEndsAReadBlockedOnAnotherThread) {
  SocketClient client = Connect();
  client.SendLine("echo ready");
  ASSERT_EQ(client.ReadLine(kPatience), "ready");
  std::optional<Error> error;
  std::thread reader([&] { error = ErrorOf([&] { client.ReadLine(kPatience); }); });
  server_.Stop();  // the reader may or may not be blocked yet: it ends either way
  reader.join();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::kClosed);
}

TEST_F(SocketClientTest, ExpectEof) {
  SocketClient client = Connect();
  client.SendLine("close");
  client.ExpectEof(kPatience);
  client.ExpectEof(kPatience);  // still closed
}

TEST_F(SocketClientTest, ExpectEofFailsWhenDataComeInstead) {
  SocketClient client = Connect();
  client.SendLine("echo surprise");
  Error e = ErrorOf([&] { client.ExpectEof(kPatience); });
  EXPECT_EQ(e.kind(), ErrorKind::kUnexpectedData);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("waited for the peer to close, but data came"),
                              HasSubstr("surprise")));
  EXPECT_EQ(client.ReadLine(kPatience), "surprise");  // the data stay unread
}

TEST_F(SocketClientTest, ReadToEofReturnsWhatCameBeforeTheClose) {
  SocketClient client = Connect();
  client.SendLine("echo one");
  client.SendLine("echo two");
  client.SendLine("close");
  EXPECT_EQ(client.ReadToEof(kPatience), "one\ntwo\n");
  EXPECT_EQ(client.unread(), "");
  client.ExpectEof(kPatience);  // still closed, nothing unread
}

TEST_F(SocketClientTest, SendEofSendsEndOfStream) {
  SocketClient client = Connect();
  auto from = server_.log().next_seq();
  client.SendLine("echo before the end");
  client.SendEof();
  server_.process().WaitForLine(R"(^end of stream \d+$)", kPatience, from);
  EXPECT_EQ(client.ReadLine(kPatience), "before the end");  // we can still read
  client.ExpectEof(kPatience);  // the server closes after the end of stream
  Error e = ErrorOf([&] { client.SendLine("echo too late"); });
  EXPECT_EQ(e.kind(), ErrorKind::kWrongState);
  EXPECT_THAT(e.what(), HasSubstr("sending was ended (SendEof)"));
  client.SendEof();  // again: nothing
}

TEST_F(SocketClientTest, SendingToAClosedPeerFails) {
  SocketClient client = Connect();
  client.SendLine("close");
  client.ExpectEof(kPatience);
  // The first writes may still be accepted by our kernel; the peer's reset ends them.
  std::optional<Error> error;
  for (int i = 0; i < 100000 && !error; ++i) {
    try {
      client.SendLine("x", kPatience);
    } catch (const Error& e) {
      error = e;
    }
  }
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::kClosed);
  EXPECT_THAT(error->what(), HasSubstr("sending 2 bytes \"x\\x0A\" failed"));
}

TEST_F(SocketClientTest, SendTimeoutSaysHowMuchWasSent) {
  SocketClient client = Connect();
  client.SendLine("stop-reading");
  ASSERT_EQ(client.ReadLine(kPatience), "stopped");
  const std::string flood(64u << 20, 'f');  // more than the kernel buffers on both sides hold
  Error e = ErrorOf([&] { client.Send(flood, kShort); });
  EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("timed out after " + std::string("200ms")),
                              HasSubstr("sending 67108864 bytes"), HasSubstr(" sent): the peer does not read")));
  auto begin = Clock::now();
  { SocketClient gone = std::move(client); }  // unsent and unread data: still closes at once
  EXPECT_LT(Clock::now() - begin, kPatience / 2);
}

TEST_F(SocketClientTest, DestroyingAClientWithUnreadDataReturnsAtOnce) {
  auto from = server_.log().next_seq();
  auto begin = Clock::now();
  {
    SocketClient client = Connect();
    client.SendLine("lines 200000");  // about 2.5 MB, far more than we read
    EXPECT_EQ(client.ReadLine(kPatience), "line 1");
  }
  EXPECT_LT(Clock::now() - begin, kPatience / 2);
  // The connection really is gone: the server's writes fail and it closes its end.
  server_.process().WaitForLine(R"(^closed \d+$)", kPatience, from);
}

TEST_F(SocketClientTest, CloseEndsTheClient) {
  SocketClient client = Connect();
  client.Close();
  client.Close();  // again: nothing
  Error e = ErrorOf([&] { client.ReadLine(kPatience); });
  EXPECT_EQ(e.kind(), ErrorKind::kWrongState);
  EXPECT_THAT(e.what(), HasSubstr("cannot wait for a line: the client was closed"));
  EXPECT_EQ(ErrorOf([&] { client.SendLine("echo x"); }).kind(), ErrorKind::kWrongState);
  EXPECT_EQ(ErrorOf([&] { client.Expect("x"); }).kind(), ErrorKind::kWrongState);
  EXPECT_EQ(ErrorOf([&] { client.ExpectEof(); }).kind(), ErrorKind::kWrongState);
  EXPECT_EQ(ErrorOf([&] { client.SendEof(); }).kind(), ErrorKind::kWrongState);
}

TEST_F(SocketClientTest, MovesKeepTheConnection) {
  SocketClient first = Connect("first");
  SocketClient second = std::move(first);
  second.SendLine("echo moved");
  EXPECT_EQ(second.ReadLine(kPatience), "moved");
  SocketClient third = Connect("third");
  third = std::move(second);  // closes third's own connection
  EXPECT_EQ(third.label(), "first");
  third.SendLine("echo again");
  EXPECT_EQ(third.ReadLine(kPatience), "again");
}

TEST_F(SocketClientTest, RecordsItsTrafficInTheTimeline) {
  OutputLog timeline;
  const std::string peer = "127.0.0.1:" + std::to_string(server_.port());
  {
    SocketClient client = ConnectTcp(server_.port(), kPatience, &timeline, "kv");
    client.SendLine("echo hi");
    EXPECT_EQ(client.ReadLine(kPatience), "hi");
    client.Send("echo " + std::string(300, 'a') + "\n");
    EXPECT_EQ(client.ReadLine(kPatience), std::string(300, 'a'));
    client.SendLine("close");
    client.ExpectEof(kPatience);
  }
  const std::string a200(200, 'a');
  EXPECT_THAT(ClientLines(timeline),
              ElementsAre("kv connected to " + peer, R"(kv > echo hi\x0A)", R"(kv < hi\x0A)",
                          "kv > echo " + a200.substr(5) + " [... 106 more bytes]",
                          "kv < " + a200 + " [... 101 more bytes]", R"(kv > close\x0A)",
                          "kv peer closed the connection", "kv closed"));
}

TEST_F(SocketClientTest, TimelineInterleavesWithTheServerLog) {
  auto from = server_.log().next_seq();
  SocketClient client = ConnectTcp(server_.port(), kPatience, &server_.log());
  client.SendLine("close");
  client.ExpectEof(kPatience);
  server_.process().WaitForLine(R"(^closed \d+$)", kPatience, from);
  std::vector<std::string> lines;
  for (const Line& line : server_.log().Lines(from)) lines.push_back(line.text);
  // One story in time order: our note of the command comes before the server's reaction.
  const std::string sent = client.label() + R"( > close\x0A)";
  auto note = std::find(lines.begin(), lines.end(), sent);
  auto reaction = std::find_if(lines.begin(), lines.end(), [](const std::string& text) {
    return text.starts_with("closed ");
  });
  ASSERT_NE(note, lines.end());
  ASSERT_NE(reaction, lines.end());
  EXPECT_LT(note, reaction);
}

TEST_F(SocketClientTest, ManyClientsOnManyThreads) {
  constexpr int kThreads = 12;
  constexpr int kLines = 300;
  std::vector<std::string> failures(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          SocketClient client = ConnectTcp(server_.port(), kPatience, &server_.log());
          for (int i = 0; i < kLines; ++i) {
            std::string text = "client " + std::to_string(t) + " line " + std::to_string(i);
            client.SendLine("echo " + text, kPatience);
            if (i % 3 == 0) {  // pipelined too: several lines in flight
              client.SendLine("echo +" + text, kPatience);
              if (client.ReadLine(kPatience) != text || client.ReadLine(kPatience) != "+" + text) {
                failures[t] = "wrong answer at " + text;
                return;
              }
            } else if (client.Expect("^(.*)\n", kPatience).at(1) != text) {
              failures[t] = "wrong answer at " + text;
              return;
            }
          }
          client.SendLine("close");
          client.ExpectEof(kPatience);
        } catch (const std::exception& e) {
          failures[t] = e.what();
        }
      });
    }
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST(SocketClientConnect, RefusedConnectionFailsAtOnce) {
  ClosedPort closed;
  auto begin = Clock::now();
  Error e = ErrorOf([&] { ConnectTcp(closed.port(), kPatience, nullptr, "nobody"); });
  EXPECT_LT(Clock::now() - begin, kPatience / 2);
  EXPECT_EQ(e.kind(), ErrorKind::kConnectFailed);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("nobody: cannot connect to 127.0.0.1:" +
                                        std::to_string(closed.port())),
                              HasSubstr(std::strerror(ECONNREFUSED))));  // in our locale
}

TEST(SocketClientConnect, BadArguments) {
  EXPECT_EQ(ErrorOf([] { ConnectTcp(0); }).kind(), ErrorKind::kBadInput);
  EXPECT_EQ(ErrorOf([] { ConnectTcp(70000); }).kind(), ErrorKind::kBadInput);
  EXPECT_EQ(ErrorOf([] { ConnectUnix(""); }).kind(), ErrorKind::kBadInput);
  Error e = ErrorOf([] { ConnectUnix("/tmp/" + std::string(200, 'p')); });
  EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
  EXPECT_THAT(e.what(), HasSubstr("a socket path has 1 to 107 bytes"));
}

TEST(SocketClientConnect, UnixSocket) {
  auto dir = std::filesystem::temp_directory_path() /
             ("fixtures-socket-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "line.sock").string();
  Error missing = ErrorOf([&] { ConnectUnix(path, kPatience); });
  EXPECT_EQ(missing.kind(), ErrorKind::kConnectFailed);
  EXPECT_THAT(missing.what(), HasSubstr("cannot connect to " + path));
  {
    Server server({.command = {LINE_SERVER, "unix", path},
                   .ready = OutputMatches("^listening on "),
                   .startup_timeout = kPatience});
    server.Start();
    OutputLog timeline;
    SocketClient client = ConnectUnix(path, kPatience, &timeline);
    EXPECT_EQ(client.peer(), path);
    EXPECT_THAT(client.label(), MatchesRegex(R"(unix#[0-9]+)"));
    client.SendLine("echo over unix");
    EXPECT_EQ(client.ReadLine(kPatience), "over unix");
    client.SendEof();
    client.ExpectEof(kPatience);
    EXPECT_THAT(ClientLines(timeline).front(), HasSubstr(" connected to " + path));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fixtures
