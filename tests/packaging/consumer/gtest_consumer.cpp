#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::Server& server = fixtures::AddServerEnvironment(
    {.command = {"sh", "-c", "echo ready; exec sleep 600"}, .ready = fixtures::OutputMatches("ready")});

TEST(Consumer, ServerRuns) { EXPECT_TRUE(server.running()); }
