// Stdout comparison of stdin/stdout tests (rewards/code/code_compare.h).
#include <gtest/gtest.h>

#include "rewards/code/code_compare.h"

namespace r1::rewards {
namespace {

bool same(const std::string& expected, const std::string& actual, double tol = 0) {
  return compare_output(expected, actual, tol).equal;
}

TEST(CodeCompare, WhitespaceInsideLinesAndTrailingBlankLinesAreNormalised) {
  EXPECT_TRUE(same("1 2 3\n4\n", "1   2\t3  \r\n4"));
  EXPECT_TRUE(same("x\n", "x\n\n\n  \n"));
  EXPECT_TRUE(same("", "\n"));
}

TEST(CodeCompare, LineStructureMatters) {
  EXPECT_FALSE(same("1 2\n", "1\n2\n"));
  EXPECT_FALSE(same("1\n\n2\n", "1\n2\n"));  // a blank line in the middle is a line
  EXPECT_EQ(compare_output("1\n2\n", "1\n").reason, "expected 2 lines, got 1");
}

TEST(CodeCompare, TokensAreExactWithoutTolerance) {
  EXPECT_FALSE(same("12\n", "1 2\n"));
  EXPECT_FALSE(same("Yes\n", "YES\n"));
  EXPECT_FALSE(same("0.5\n", "0.50\n"));
  EXPECT_EQ(compare_output("a b\n", "a c\n").reason, "line 1 token 2: expected 'b', got 'c'");
}

TEST(CodeCompare, FloatToleranceIsAbsoluteForSmallAndRelativeForLarge) {
  EXPECT_TRUE(same("0.5\n", "0.50\n", 1e-9));
  EXPECT_TRUE(same("0.3333333\n", "0.33333331\n", 1e-6));
  EXPECT_FALSE(same("0.333\n", "0.334\n", 1e-6));
  EXPECT_TRUE(same("1000000\n", "1000000.5\n", 1e-6));   // relative: 0.5 <= 1e-6 * 1e6
  EXPECT_FALSE(same("1000000\n", "1000002\n", 1e-6));
  EXPECT_FALSE(same("nan\n", "nan2\n", 1e-6));
  EXPECT_FALSE(same("1\n", "inf\n", 1e-6));  // only decimal numbers are numbers
  EXPECT_FALSE(same("abc\n", "abd\n", 1e-6));
}

}  // namespace
}  // namespace r1::rewards
