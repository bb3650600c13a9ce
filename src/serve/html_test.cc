#include "serve/html.h"

#include <gtest/gtest.h>

namespace fb::serve {
namespace {

TEST(Html, EscapesMarkupAndQuotes) {
  EXPECT_EQ(HtmlEscape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;");
  EXPECT_EQ(HtmlEscape("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
}

TEST(Html, InvalidUtf8AndControlCharactersBecomeReplacementCharacters) {
  EXPECT_EQ(HtmlEscape(std::string("a\xff"
                                   "b")),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(HtmlEscape(std::string("\xc0\xbc")), "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong '<'
  EXPECT_EQ(HtmlEscape(std::string("\xed\xa0\x80")), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  EXPECT_EQ(HtmlEscape(std::string("x\x1b[31my", 7)), "x\xef\xbf\xbd[31my");
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(HtmlEscape("line\nnext\ttab"), "line\nnext\ttab");
}

TEST(Html, UrlEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(UrlEncode("a b/c?d=e&f#g"), "a%20b%2Fc%3Fd%3De%26f%23g");
  EXPECT_EQ(UrlEncode("part0/file-1_2.csv~"), "part0%2Ffile-1_2.csv~");
  EXPECT_EQ(UrlEncode("\"><"), "%22%3E%3C");
}

TEST(Html, RedactsSecrets) {
  EXPECT_EQ(RedactSecrets("https://user:hunter2@example.com/x"), "https://user:[hidden]@example.com/x");
  EXPECT_EQ(RedactSecrets("cmd --api-token abc123 {input}"), "cmd --api-token [hidden] {input}");
  EXPECT_EQ(RedactSecrets("cmd --password=abc {input}"), "cmd --password=[hidden] {input}");
  EXPECT_EQ(RedactSecrets("AWS_SECRET_ACCESS_KEY=abc cmd"), "AWS_SECRET_ACCESS_KEY=[hidden] cmd");
  EXPECT_EQ(RedactSecrets("key AKIAIOSFODNN7EXAMPLE here"), "key [hidden] here");
  // Ordinary options and paths are left alone.
  EXPECT_EQ(RedactSecrets("--keep-columns id,ts --input s3://bucket/in/"),
            "--keep-columns id,ts --input s3://bucket/in/");
}

}  // namespace
}  // namespace fb::serve
