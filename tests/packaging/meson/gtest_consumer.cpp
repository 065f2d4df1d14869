// ServerFixtures::gtest from a Meson project: a server as a GoogleTest environment.
#include <fixtures/gtest.hpp>

using namespace std::chrono_literals;

fixtures::Server& server = fixtures::AddServerEnvironment(
    {.command = {"sh", "-c", "echo ready; exec sleep 600"}, .ready = fixtures::OutputMatches("ready"),
     .startup_timeout = 60s});

TEST(MesonConsumer, ServerRuns) { EXPECT_TRUE(server.running()); }
