#include "common/status.h"

#include <gtest/gtest.h>

namespace fb {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  FB_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ToStringIncludesKnownLocation) {
  EXPECT_EQ(InvalidData("bad").At("a.csv", 3, 7).ToString(), "a.csv:3:7: bad");
  EXPECT_EQ(InvalidData("bad").At("a.csv", 3).ToString(), "a.csv:3: bad");
  EXPECT_EQ(InvalidData("bad").At("a.csv").ToString(), "a.csv: bad");
  EXPECT_EQ(InvalidData("bad").ToString(), "bad");
  EXPECT_EQ(Status().ToString(), "ok");
}

TEST(StatusTest, PrefixAndWithPath) {
  Status s = NotFound("gone").WithPath("x").WithPath("y").Prefix("loading");
  EXPECT_EQ(s.ToString(), "x: loading: gone");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
  EXPECT_TRUE(Quarter(4).status().ok());
}

}  // namespace
}  // namespace fb
