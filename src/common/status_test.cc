#include "common/status.h"

#include <gtest/gtest.h>

#include "common/text_escape.h"

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

TEST(StatusTest, EscapesControlCharactersAndBadUtf8) {
  using namespace std::string_literals;
  EXPECT_EQ(EscapeForMessage("plain text, 1.5"), "plain text, 1.5");
  EXPECT_EQ(EscapeForMessage("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb2"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb2");
  EXPECT_EQ(EscapeForMessage("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(EscapeForMessage("nul\0after"s), "nul\\0after");
  EXPECT_EQ(EscapeForMessage("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(EscapeForMessage("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeForMessage("c1 \xc2\x9b csi"), "c1 \\xc2\\x9b csi");    // U+009B, the 8-bit CSI
  EXPECT_EQ(EscapeForMessage("bad \xff\xc3 end"), "bad \\xff\\xc3 end");  // not UTF-8
  EXPECT_EQ(EscapeForMessage("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  EXPECT_EQ(EscapeForMessage("surrogate \xed\xa0\x80"), "surrogate \\xed\\xa0\\x80");
  // Escaping is idempotent: an escaped text escapes to itself.
  const std::string once = EscapeForMessage("x\x01\n\xff"s);
  EXPECT_EQ(EscapeForMessage(once), once);
}

// A NUL or an escape sequence in a file name or a CSV field can neither cut
// the message short nor reach the terminal; a message's own line breaks stay.
TEST(StatusTest, ToStringEscapesPathAndMessage) {
  using namespace std::string_literals;
  Status s =
      InvalidData("not a number: 'x\0y\x1b]0;owned\x07'\nsecond line"s).At("in\ndir/\x1b[2Jf.csv"s, 3, 4);
  EXPECT_EQ(s.ToString(), "in\\ndir/\\x1b[2Jf.csv:3:4: not a number: 'x\\0y\\x1b]0;owned\\x07'\nsecond line");
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
