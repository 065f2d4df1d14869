// Run by ctest after every test of shared_server_test and before its cleanup (see
// CMakeLists.txt): attaches to the shared greeter and proves from its log that one server
// process served every test process.
#include <gmock/gmock.h>

#include <fixtures/gtest.hpp>
#include <set>

fixtures::Server& greeter = fixtures::AddServerEnvironment({
    .command = {GREETER_SERVER, "--port", "0"},
    .name = "shared-greeter",  // the name is what finds the shared server
});

TEST(SharedGreeter, OneServerProcessServedEveryTestProcess) {
  ASSERT_TRUE(greeter.attached()) << "run by ctest only, with FIXTURES_SHARED_DIR set";
  std::set<std::string> starts, test_processes, greeted;
  for (const auto& line : greeter.log().Lines()) {
    if (line.stream == fixtures::Stream::kSystem && line.text.starts_with("started pid ")) starts.insert(line.text);
    auto at = line.text.find(" (test process ");
    if (line.stream == fixtures::Stream::kSystem && line.text.starts_with("[ RUN      ] SharedGreeter.") &&
        at != std::string::npos) {
      test_processes.insert(line.text.substr(at));
    }
    if (line.stream == fixtures::Stream::kClient && line.text.starts_with("http GET /greet?name=") &&
        line.text.find("-> 200") != std::string::npos) {
      greeted.insert(line.text.substr(0, line.text.find(" -> ")));
    }
  }
  ASSERT_EQ(starts.size(), 1u) << "the shared log shows more than one start";
  EXPECT_EQ(*starts.begin(), "started pid " + std::to_string(greeter.pid()) + ": " + GREETER_SERVER +
                                 " --port 0");
  EXPECT_GE(test_processes.size(), 6u) << "every test of shared_server_test runs in a process of its own";
  EXPECT_EQ(greeted.size(), 5u);  // Ada, Grace, Barbara, Frances, Karen: each from its own process
  EXPECT_TRUE(greeter.running());
}
