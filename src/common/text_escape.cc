#include "common/text_escape.h"

namespace fb {

namespace {

// Length of the UTF-8 sequence at s[i] (2..4), or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void AppendEscapedForMessage(std::string* out, std::string_view text, bool keep_line_breaks) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [&](unsigned char c) {
    *out += "\\x";
    *out += kHex[c >> 4];
    *out += kHex[c & 15];
  };
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      *out += static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {
      if ((c == '\n' || c == '\t') && keep_line_breaks)
        *out += static_cast<char>(c);
      else if (c == '\n')
        *out += "\\n";
      else if (c == '\t')
        *out += "\\t";
      else if (c == '\r')
        *out += "\\r";
      else if (c == 0)
        *out += "\\0";
      else
        hex(c);
      ++i;
    } else if (size_t n = Utf8SequenceLength(text, i); n > 0) {
      // C1 controls (U+0080..U+009F, 0xC2 0x80..0x9F) act on terminals too.
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      if (n == 2 && c == 0xC2 && c1 < 0xA0) {
        hex(c);
        hex(c1);
      } else {
        out->append(text.substr(i, n));
      }
      i += n;
    } else {
      hex(c);
      ++i;
    }
  }
}

std::string EscapeForMessage(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscapedForMessage(&out, text, /*keep_line_breaks=*/false);
  return out;
}

}  // namespace fb
