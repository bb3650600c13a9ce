#include "common/shell_quote.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace fb {
namespace {

TEST(ShellQuoteTest, BareOnlyForSafeWords) {
  EXPECT_EQ(ShellQuote("abc/DEF-1_2.csv"), "abc/DEF-1_2.csv");
  EXPECT_EQ(ShellQuote("--mem=4G"), "--mem=4G");
  EXPECT_EQ(ShellQuote("user@host:50%"), "user@host:50%");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$HOME"), "'$HOME'");
}

// What /bin/sh reads back from ShellQuote(s) is s, byte for byte, and runs
// nothing: a hostile word stays one inert argument.
TEST(ShellQuoteTest, ShellReadsBackEveryByte) {
  const std::string words[] = {
      "plain", "two words", "$(touch PWNED)", "`touch PWNED`", "a'b\"c",  "'",         "''",
      "\\",    "x;y&z|w",   "*?[a]{b,c}",     "~root",         "-n",      "tab\there", "new\nline",
      "#hash", "!bang",     "$((1+1))",       "\x01\x7f\xff",  "{input}", "a\\'b"};
  for (const std::string& w : words) {
    const std::string cmd = "printf '%s' " + ShellQuote(w);
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string got;
    char buf[256];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) got.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << w;
    EXPECT_EQ(got, w) << cmd;
  }
}

}  // namespace
}  // namespace fb
