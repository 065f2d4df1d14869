#include "fixtures/pattern.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/error.hpp"

namespace fixtures {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Pattern, SearchReturnsGroups) {
  Pattern p(R"(Serving HTTP on \S+ port (\d+))");
  auto m = p.Search("Serving HTTP on 127.0.0.1 port 8123 (http://127.0.0.1:8123/) ...");
  ASSERT_TRUE(m);
  EXPECT_THAT(*m, ElementsAre("Serving HTTP on 127.0.0.1 port 8123", "8123"));
  EXPECT_FALSE(p.Search("nothing here"));
  EXPECT_EQ(p.group_count(), 1u);
}

TEST(Pattern, NamedGroups) {
  Pattern p(R"((\w+) (?<port>\d+) (?<host>[a-z.]+) (?'x'y) (?:no)z(?<=z)(?<!q)[(](a))");
  EXPECT_THAT(p.group_names(), ElementsAre("port", "host", "x"));
  EXPECT_EQ(p.GroupIndex("port"), 2);
  EXPECT_EQ(p.GroupIndex("host"), 3);
  EXPECT_EQ(p.GroupIndex("x"), 4);
  EXPECT_EQ(p.GroupIndex("nope"), -1);
  auto m = p.Search("listen 8080 local.host y noz(a");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)[2], "8080");
  EXPECT_EQ((*m)[5], "a");
}

TEST(Pattern, InvalidPatternIsAClearError) {
  try {
    Pattern p("listening on (\\d+");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_THAT(e.what(), HasSubstr("invalid pattern /listening on (\\d+/"));
  }
}

TEST(Pattern, HugeLineDoesNotOverflowTheStack) {
  std::string line(4u << 20, 'a');
  line += "b";
  EXPECT_TRUE(Pattern("a+b$").Search(line));
  EXPECT_FALSE(Pattern("a+c$").Search(line));
  // Patterns that backtrack per byte give up with a clear error instead of crashing.
  try {
    Pattern("(a|c)+d").Search(line);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_THAT(e.what(), HasSubstr("pattern /(a|c)+d/ is too complex for a line of 4194305 bytes"));
  }
}

}  // namespace
}  // namespace fixtures
