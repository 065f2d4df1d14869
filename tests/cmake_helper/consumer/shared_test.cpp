// Registered with SHARED_SERVER; run.cmake only lists its tests.
#include <gtest/gtest.h>

TEST(Shared, Listed) {}

// Stand-ins for the gtest glue's FixturesShared.* tests, which ctest runs as the setup and
// cleanup tests: discovery must leave them out. (In a namespace: no clash with the glue's own.)
namespace stand_in {
TEST(FixturesShared, Setup) {}
TEST(FixturesShared, Cleanup) {}
}  // namespace stand_in
