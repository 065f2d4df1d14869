// Proves, by running mariadb_test's test that fails on purpose as a child, that the report of a
// failed test shows the SQL the `mariadb` client was sent and the error it printed, in the
// MariaDB server's timeline (printed after the test, and in $FIXTURES_REPORT_FILE).
#include <gmock/gmock.h>

#include "example_run.hpp"
#include "installed.hpp"

using testing::HasSubstr;

TEST(MariaDbCheck, AFailedTestShowsTheSqlSentAndTheErrorReceived) {
  EXAMPLES_SKIP_UNLESS_INSTALLED("mariadbd");
  auto run = examples::RunExample(MARIADB_TEST, "MariaDb.DISABLED_TypoInTheSql");
  EXPECT_EQ(run.status.Describe(), "exited with code 1") << run.out;

  std::string failed = examples::Block(run.out, "MariaDb.DISABLED_TypoInTheSql");
  EXPECT_THAT(failed, HasSubstr("[  FAILED  ] MariaDb.DISABLED_TypoInTheSql")) << run.out;
  for (const std::string& where : {failed, run.report}) {
    // The server's timeline: what the client was sent, in order, then the error it printed.
    auto insert = where.find("cli| mysql> INSERT INTO t VALUES (1), (2);\n");
    auto typo = where.find("cli| mysql> SELECT COUNT(*) FROM t WHERE n > 0 ORDER BY;\n");
    auto error = where.find("cli| mysql< ERROR 1064 (42000) at line 3: You have an error in your SQL syntax");
    ASSERT_NE(error, std::string::npos) << where;
    EXPECT_LT(insert, typo) << where;
    EXPECT_LT(typo, error) << where;
  }
}
