#include "model/import/lazy_doc.h"

#include <fast_float/fast_float.h>
#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "common/bit_count.h"

namespace fb {

namespace {

// Deeper documents are left to the full parsers (XGBoost nests 7 deep).
constexpr int kMaxDepth = 32;

inline bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
// What may follow a scalar in JSON (besides the end of the text).
inline bool IsDelimiter(char c) { return IsWs(c) || c == ',' || c == ']' || c == '}'; }
inline bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// A JSON number token at p (RFC 8259's grammar), within the bounds this
// reader converts exactly as simdjson does: an integer of at most 18 digits
// (an int64; simdjson's INT64), or a number with a fraction or an exponent of
// at most 19 digits and an exponent within +-280 (a finite double; simdjson's
// DOUBLE, correctly rounded by both). The end of the token, or nullptr.
// `integer`: no fraction and no exponent.
inline const char* ScanNumber(const char* p, const char* end, bool* integer) {
  if (p < end && *p == '-') ++p;
  const char* digits = p;
  if (p < end && *p == '0') {
    ++p;
  } else {
    while (p < end && IsDigit(*p)) ++p;
  }
  if (p == digits) return nullptr;
  size_t n = static_cast<size_t>(p - digits);
  *integer = true;
  if (p < end && *p == '.') {
    ++p;
    const char* frac = p;
    while (p < end && IsDigit(*p)) ++p;
    if (p == frac) return nullptr;
    n += static_cast<size_t>(p - frac);
    *integer = false;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    const char* exp = p;
    int e = 0;
    while (p < end && IsDigit(*p) && p - exp < 4) e = e * 10 + (*p++ - '0');
    if (p == exp || p - exp > 3 || e > 280) return nullptr;
    *integer = false;
  }
  if (n > (*integer ? 18 : 19)) return nullptr;
  if (p < end && !IsDelimiter(*p)) return nullptr;
  return p;
}

// The first byte at or after p that is not a digit, 8 bytes at a time
// while 8 are left before `end` (bytes before the first non-digit are digits,
// so no carry between bytes reaches them); then one at a time, which stops
// at the array's ']' (see ScanArrayNumber).
inline const char* SkipDigits(const char* p, const char* end) {
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ull, kThree = 0x3030303030303030ull,
                     kSix = 0x0606060606060606ull;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    const uint64_t not_digit = ((w & kHigh) ^ kThree) | (((w + kSix) & kHigh) ^ kThree);
    if (not_digit != 0) return p + (std::countr_zero(not_digit) >> 3);
    p += 8;
  }
  while (IsDigit(*p)) ++p;
  return p;
}

// ScanNumber without bounds checks, for the elements of a JSON array of
// numbers, which ends with a ']' (LazyJsonReader::Numbers found it): no step
// moves past a ']', so every loop stops before the end of the text. After
// the token: white space, then ',' or ']' (else nullptr); returns that
// byte's position.
inline const char* ScanArrayNumber(const char* p, const char* end) {
  if (*p == '-') ++p;
  const char* digits = p;
  if (*p == '0') {
    ++p;
  } else {
    p = SkipDigits(p, end);
  }
  size_t n = static_cast<size_t>(p - digits);
  if (n == 0) return nullptr;
  size_t limit = 18;
  if (*p == '.') {
    const char* frac = ++p;
    p = SkipDigits(p, end);
    if (p == frac) return nullptr;
    n += static_cast<size_t>(p - frac);
    limit = 19;
  }
  if ((*p | 0x20) == 'e') {
    ++p;
    if (*p == '+' || *p == '-') ++p;
    const char* exp = p;
    int e = 0;
    while (IsDigit(*p) && p - exp < 4) e = e * 10 + (*p++ - '0');
    if (p == exp || p - exp > 3 || e > 280) return nullptr;
    limit = 19;
  }
  if (n > limit) return nullptr;
  while (IsWs(*p)) ++p;
  return (*p == ',' || *p == ']') ? p : nullptr;
}

// Whether an array element starting at p may be a non-finite token.
inline bool MaybeNonFinite(const char* p) { return *p == 'N' || *p == 'I' || (*p == '-' && p[1] == 'I'); }

// The first ']' in [p, end) (nullptr if none), and the commas before it.
inline const char* CloseAndCommas(const char* p, const char* end, size_t* commas) {
  size_t n = 0;
#if defined(__SSE2__)
  // 16 bytes a step; commas summed per byte lane (at most 255 steps), then
  // across lanes.
  const __m128i close = _mm_set1_epi8(']'), comma = _mm_set1_epi8(','), zero = _mm_setzero_si128();
  __m128i lanes = zero;
  int steps = 0;
  auto flush = [&] {
    const __m128i sums = _mm_sad_epu8(lanes, zero);
    n += static_cast<size_t>(_mm_cvtsi128_si32(sums)) + static_cast<size_t>(_mm_extract_epi16(sums, 4));
    lanes = zero;
    steps = 0;
  };
  for (; end - p >= 16; p += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i is_comma = _mm_cmpeq_epi8(b, comma);
    const unsigned c = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, close)));
    if (c != 0) {
      flush();
      const int at = std::countr_zero(c);
      const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(is_comma)) & ((1u << at) - 1);
      *commas = n + static_cast<size_t>(std::popcount(m));
      return p + at;
    }
    lanes = _mm_sub_epi8(lanes, is_comma);
    if (++steps == 255) flush();
  }
  flush();
#endif
  for (; p < end; ++p) {
    if (*p == ']') {
      *commas = n;
      return p;
    }
    n += *p == ',';
  }
  return nullptr;
}

// The number token [b, e) that ScanNumber took, as a node.
inline bool NumberNode(const char* b, const char* e, bool integer, LazyDoc::Node* out) {
  if (integer) {
    const bool negative = *b == '-';
    int64_t v = 0;
    for (const char* p = b + negative; p < e; ++p) v = v * 10 + (*p - '0');  // at most 18 digits
    out->kind = LazyDoc::Kind::kInt;
    out->i = negative ? -v : v;  // "-0" is 0, as simdjson's INT64
    return true;
  }
  double d;
  const fast_float::from_chars_result r = fast_float::from_chars(b, e, d);
  if (r.ec != std::errc() || r.ptr != e) return false;
  out->kind = LazyDoc::Kind::kDouble;
  out->d = d;
  return true;
}

// XGBoost's bare non-finite tokens at p: their length, or 0.
inline size_t NonFiniteToken(const char* p, const char* end) {
  const size_t left = static_cast<size_t>(end - p);
  size_t n = 0;
  if (left >= 3 && std::memcmp(p, "NaN", 3) == 0) {
    n = 3;
  } else if (left >= 8 && std::memcmp(p, "Infinity", 8) == 0) {
    n = 8;
  } else if (left >= 9 && std::memcmp(p, "-Infinity", 9) == 0) {
    n = 9;
  }
  if (n == 0 || (n < left && !IsDelimiter(p[n]))) return 0;
  return n;
}

}  // namespace

LazyDoc::LazyDoc() = default;
LazyDoc::~LazyDoc() = default;

void LazyDoc::Clear() {
  nodes_.clear();
  elements_.clear();
  members_.clear();
  unescaped_.clear();
  checked_.clear();
}

const LazyDoc::Node* LazyDoc::Find(const Node& object, std::string_view key) const {
  if (object.kind != Kind::kObject) return nullptr;
  const Member* m = members_.data() + object.first;
  if (ubjson_) {
    for (uint32_t k = object.count; k > 0; --k)
      if (m[k - 1].key == key) return &nodes_[m[k - 1].node];
  } else {
    for (uint32_t k = 0; k < object.count; ++k)
      if (m[k].key == key) return &nodes_[m[k].node];
  }
  return nullptr;
}

const char* LazyDoc::JsonElement(const char* p, Node* out) const {
  // The array ends with a ']' (LazyJsonReader::Numbers): no bounds checks
  // (see ScanArrayNumber).
  while (IsWs(*p)) ++p;
  const char* t = p;
  const bool negative = *p == '-';
  p += negative;
  // ScanArrayNumber's checks, converting on the way.
  const char* digits = p;
  uint64_t v = 0;  // the digits (at most 19 taken, checked below)
  if (*p == '0') {
    ++p;
  } else {
    while (IsDigit(*p)) v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  size_t n = static_cast<size_t>(p - digits);
  if (n == 0) {
    const size_t k = MaybeNonFinite(t) ? NonFiniteToken(t, end_) : 0;
    if (k == 0) return nullptr;
    out->kind = Kind::kString;
    out->s = t;
    out->count = static_cast<uint32_t>(k);
    p = t + k;
    while (IsWs(*p)) ++p;
    return p;
  }
  bool integer = true;
  int e10 = 0;
  if (*p == '.') {
    const char* frac = ++p;
    while (IsDigit(*p)) v = v * 10 + static_cast<uint64_t>(*p++ - '0');
    if (p == frac || p - frac > 19) return nullptr;  // (the int below cannot overflow)
    n += static_cast<size_t>(p - frac);
    e10 = -static_cast<int>(p - frac);
    integer = false;
  }
  if ((*p | 0x20) == 'e') {
    ++p;
    const bool minus = *p == '-';
    if (*p == '+' || *p == '-') ++p;
    const char* exp = p;
    int e = 0;
    while (IsDigit(*p) && p - exp < 4) e = e * 10 + (*p++ - '0');
    if (p == exp || p - exp > 3 || e > 280) return nullptr;
    e10 += minus ? -e : e;
    integer = false;
  }
  if (n > (integer ? 18 : 19)) return nullptr;
  const char* token_end = p;
  while (IsWs(*p)) ++p;
  if (*p != ',' && *p != ']') return nullptr;
  if (integer) {  // at most 18 digits: simdjson's INT64 ("-0" is 0)
    out->kind = Kind::kInt;
    out->i = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return p;
  }
  // Correctly rounded, as simdjson's DOUBLE: exactly, when the digits and
  // the power of ten are both exact doubles (one rounding; Clinger's fast
  // path), else by fast_float.
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  out->kind = Kind::kDouble;
  if (v <= (uint64_t{1} << 53) && e10 >= -22 && e10 <= 22) {
    const double m = static_cast<double>(v);
    const double d = e10 < 0 ? m / kPow10[-e10] : m * kPow10[e10];
    out->d = negative ? -d : d;
    return p;
  }
  const fast_float::from_chars_result r = fast_float::from_chars(t, token_end, out->d);
  if (r.ec != std::errc() || r.ptr != token_end) return nullptr;
  return p;
}

namespace internal {

bool NumbersValidScalar(const char* p, const char* end, uint32_t count) {
  for (uint32_t k = 0; k < count; ++k) {
    while (IsWs(*p)) ++p;
    const char* q = ScanArrayNumber(p, end);
    if (q == nullptr) {
      const size_t t = MaybeNonFinite(p) ? NonFiniteToken(p, end) : 0;
      if (t == 0) return false;
      q = p + t;
      while (IsWs(*q)) ++q;
    }
    if (*q != (k + 1 < count ? ',' : ']')) return false;
    p = q + 1;
  }
  return true;
}

bool NumbersSurelyValid(const char* p, const char* end, uint32_t count) {
#if defined(__SSE2__)
  if (count == 0) return false;
  // Per 64-byte block, one bit per byte for each class of byte; "after(X)"
  // is X moved one byte on, with the previous block's last bit carried in.
  // Every rule looks back only, so a block needs nothing of the next one.
  // Before the first element: as after a separator and a comma.
  constexpr uint64_t kTop = uint64_t{1} << 63;
  uint64_t was_digit = 0, was_dot = 0, was_e = 0, was_sign = 0, was_sep = kTop, was_tok = 0, was_comma = kTop,
           was_int_zero = 0, was_start_minus = 0, was_exp_start = 0;
  uint64_t run2 = 0, run4 = 0, run8 = 0, was_num = 0;  // runs of digits and dots (see below)
  bool carry_dot = false, carry_exp = false, carry_sep = false, carry_comma = false;
  uint64_t tokens = 0;
  // a + b + carry, carrying out: a bit of `a` on a run of `b` bits moves to
  // the byte after the run (the run's "landing"), across blocks too.
  auto add = [](uint64_t a, uint64_t b, bool* carry) {
    unsigned long long s1, s2;
    const bool c1 = __builtin_uaddll_overflow(a, b, &s1);
    const bool c2 = __builtin_uaddll_overflow(s1, *carry ? 1ull : 0ull, &s2);
    *carry = c1 || c2;
    return static_cast<uint64_t>(s2);
  };
  auto eq = [](__m128i b, char c) { return _mm_cmpeq_epi8(b, _mm_set1_epi8(c)); };
  alignas(16) char tail[64];
  for (;; p += 64) {
    const char* block = p;
    if (p >= end) return false;  // (Numbers found the ']': not reached)
    if (end - p < 64) {          // the document's last bytes: the ']' is among them
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, p, static_cast<size_t>(end - p));
      block = tail;
    }
    uint64_t digit = 0, zero = 0, dot = 0, e = 0, plus = 0, minus = 0, comma = 0, ws = 0, close = 0;
    for (int k = 0; k < 4; ++k) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16 * k));
      auto bits = [&](__m128i m) {
        return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(m)) & 0xFFFFu) << (16 * k);
      };
      digit |= bits(_mm_and_si128(_mm_cmpgt_epi8(b, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(b, _mm_set1_epi8('9' + 1))));
      zero |= bits(eq(b, '0'));
      dot |= bits(eq(b, '.'));
      e |= bits(eq(_mm_or_si128(b, _mm_set1_epi8(0x20)), 'e'));
      plus |= bits(eq(b, '+'));
      minus |= bits(eq(b, '-'));
      comma |= bits(eq(b, ','));
      ws |= bits(_mm_or_si128(_mm_or_si128(eq(b, ' '), eq(b, '\n')), _mm_or_si128(eq(b, '\r'), eq(b, '\t'))));
      close |= bits(eq(b, ']'));
    }
    // The bytes up to the first ']', which ends the array.
    const uint64_t first_close = close & (~close + 1);
    const uint64_t live = first_close ? first_close | (first_close - 1) : ~uint64_t{0};
    close = first_close;
    const uint64_t sign = plus | minus, sep = comma | ws | close, tok = live & ~sep;
    auto after = [](uint64_t x, uint64_t was) { return x << 1 | was >> 63; };
    const uint64_t a_digit = after(digit, was_digit), a_e = after(e, was_e), a_sep = after(sep, was_sep);
    const uint64_t a_sign = after(sign, was_sign), a_dot = after(dot, was_dot), a_tok = after(tok, was_tok);
    const uint64_t start = tok & a_sep;  // a token's first byte
    const uint64_t int_start = (start & ~minus) | after(start & minus, was_start_minus);
    const uint64_t exp_start =
        digit & (a_e | (a_sign & (e << 2 | was_e >> 62)));  // an exponent's first digit
    uint64_t v = live & ~(digit | dot | e | sign | sep);    // bytes no number holds: let the scalar check say
    v |= dot & ~a_digit;                                    // "1." needs digits on both sides of its '.'
    v |= a_dot & ~digit;
    v |= e & ~a_digit;                                   // "1e5": a digit before 'e'
    v |= a_e & ~(digit | sign);                          // and a digit or a sign after it
    v |= a_sign & ~digit;                                // a digit after every sign
    v |= plus & ~a_e;                                    // '+' only in exponents
    v |= minus & ~(a_e | a_sep);                         // '-' there or first
    v |= digit & after(zero & int_start, was_int_zero);  // "01": no leading zeros
    // After a '.', digits, then an exponent or the token's end (not "1.2.3");
    // after an 'e', a sign and digits, then the end (not "1e2.3", "1e2e3").
    v |= add(a_dot, digit, &carry_dot) & ~digit & ~(e | sep);
    v |= add(a_e, digit | sign, &carry_exp) & ~(digit | sign) & ~sep;
    // A token ends with a digit; then white space and a ',' or the ']';
    // after a ',' (and before the first token), white space and a token.
    const uint64_t first_sep = sep & a_tok;
    v |= first_sep & ~a_digit;
    v |= add(first_sep, ws, &carry_sep) & ~ws & ~(comma | close);
    v |= add(after(comma, was_comma), ws, &carry_comma) & ~ws & ~tok;
    // Conservative bounds (the scalar check takes a little more): at most 18
    // digits and dots in a row (an integer of 18 digits, or 17 with a
    // fraction: the converter's bounds are 18 and 19), exponents of at most
    // two digits (its bound is 280).
    const uint64_t num = digit | dot;
    const uint64_t r2 = num & after(num, was_num);
    const uint64_t r4 = r2 & (r2 << 2 | run2 >> 62);
    const uint64_t r8 = r4 & (r4 << 4 | run4 >> 60);
    const uint64_t r16 = r8 & (r8 << 8 | run8 >> 56);
    const uint64_t r19 = r16 & (r2 << 16 | run2 >> 48) & (num << 18 | was_num >> 46);
    v |= r19;
    v |= digit & a_digit & (exp_start << 2 | was_exp_start >> 62);
    if ((v & live) != 0) return false;
    tokens += BitCount(start);
    if (first_close != 0) return tokens == count;
    was_digit = digit, was_dot = dot, was_e = e, was_sign = sign, was_sep = sep, was_tok = tok,
    was_comma = comma;
    was_int_zero = zero & int_start, was_start_minus = start & minus, was_exp_start = exp_start;
    run2 = r2, run4 = r4, run8 = r8, was_num = num;
  }
#else
  (void)p, (void)end, (void)count;
  return false;
#endif
}

}  // namespace internal

bool LazyDoc::CheckUnread() const {
  if (ubjson_) return true;
  std::sort(checked_.begin(), checked_.end());
  for (const Node& n : nodes_) {
    if (n.kind != Kind::kNumbers || std::binary_search(checked_.begin(), checked_.end(), n.at)) continue;
    const char* p = base_ + n.at;
    if (!internal::NumbersSurelyValid(p, end_, n.count) && !internal::NumbersValidScalar(p, end_, n.count))
      return false;
  }
  return true;
}

void LazyDoc::UbjsonElement(const Node& array, uint32_t k, Node* out) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(base_) + array.at;
  auto be = [&](size_t width) {
    uint64_t v = 0;
    for (size_t b = 0; b < width; ++b) v = (v << 8) | p[k * width + b];
    return v;
  };
  switch (array.type) {
    case 'i': out->kind = Kind::kInt, out->i = static_cast<int8_t>(be(1)); break;
    case 'U': out->kind = Kind::kInt, out->i = static_cast<uint8_t>(be(1)); break;
    case 'I': out->kind = Kind::kInt, out->i = static_cast<int16_t>(be(2)); break;
    case 'l': out->kind = Kind::kInt, out->i = static_cast<int32_t>(be(4)); break;
    case 'L': out->kind = Kind::kInt, out->i = static_cast<int64_t>(be(8)); break;
    case 'd': out->kind = Kind::kDouble, out->d = std::bit_cast<float>(static_cast<uint32_t>(be(4))); break;
    default: out->kind = Kind::kDouble, out->d = std::bit_cast<double>(be(8)); break;  // 'D'
  }
}

// ---------------------------------------------------------------------------
// JSON

class LazyJsonReader {
 public:
  LazyJsonReader(LazyDoc* doc, std::string_view text)
      : doc_(doc),
        p_(text.data()),
        end_(text.data() + text.size()),
        members_(kMaxDepth + 1),
        elements_(kMaxDepth + 1) {}

  bool Read() {
    Ws();
    if (!Value(0)) return false;
    Ws();
    return p_ == end_;
  }

 private:
  using Node = LazyDoc::Node;
  using Kind = LazyDoc::Kind;

  void Ws() {
    while (p_ < end_ && IsWs(*p_)) ++p_;
  }

  uint32_t Add(const Node& n) {
    doc_->nodes_.push_back(n);
    return static_cast<uint32_t>(doc_->nodes_.size() - 1);
  }

  // A value at p_ (no white space before it), appended to the nodes.
  bool Value(int depth) {
    if (p_ == end_) return false;
    Node n;
    switch (*p_) {
      case '{': return Object(depth + 1);
      case '[': return Array(depth + 1);
      case '"': {
        std::string_view s;
        if (!String(&s)) return false;
        n.kind = Kind::kString;
        n.s = s.data();
        n.count = static_cast<uint32_t>(s.size());
        Add(n);
        return true;
      }
      case 't': return Literal("true", Kind::kBool, 1);
      case 'f': return Literal("false", Kind::kBool, 0);
      case 'n': return Literal("null", Kind::kNull, 0);
      default: break;
    }
    if (const size_t k = NonFiniteToken(p_, end_)) {
      n.kind = Kind::kString;
      n.s = p_;
      n.count = static_cast<uint32_t>(k);
      p_ += k;
      Add(n);
      return true;
    }
    bool integer;
    const char* e = ScanNumber(p_, end_, &integer);
    if (e == nullptr || !NumberNode(p_, e, integer, &n)) return false;
    p_ = e;
    Add(n);
    return true;
  }

  bool Literal(std::string_view word, Kind kind, int64_t v) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    if (p_ < end_ && !IsDelimiter(*p_)) return false;
    Node n;
    n.kind = kind;
    n.i = v;
    Add(n);
    return true;
  }

  // A string at p_ ('"'): its bytes in the text, or unescaped by simdjson.
  bool String(std::string_view* out) {
    const char* b = ++p_;
    bool plain = true;
    while (true) {
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c == '\\') {
        plain = false;
        if (++p_ == end_) return false;
      } else if (c >= 0x80) {
        plain = false;
      }
      ++p_;
    }
    ++p_;  // the closing '"'
    if (plain) {
      *out = std::string_view(b, static_cast<size_t>(p_ - 1 - b));
      return true;
    }
    // Escapes and UTF-8 as simdjson checks and reads them.
    if (!parser_) parser_ = std::make_unique<simdjson::dom::parser>();
    const simdjson::padded_string token(b - 1, static_cast<size_t>(p_ - (b - 1)));
    std::string_view s;
    if (parser_->parse(token).get_string().get(s) != simdjson::SUCCESS) return false;
    *out = doc_->unescaped_.emplace_back(s);
    return true;
  }

  bool Object(int depth) {
    if (depth > kMaxDepth) return false;
    const uint32_t self = Add(Node());
    ++p_;  // '{'
    std::vector<LazyDoc::Member>& members = members_[depth];
    members.clear();
    Ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
    } else {
      while (true) {
        if (p_ == end_ || *p_ != '"') return false;
        std::string_view key;
        if (!String(&key)) return false;
        Ws();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        Ws();
        const uint32_t value = static_cast<uint32_t>(doc_->nodes_.size());
        if (!Value(depth)) return false;
        members.push_back({key, value});
        Ws();
        if (p_ == end_) return false;
        if (*p_ == '}') {
          ++p_;
          break;
        }
        if (*p_ != ',') return false;
        ++p_;
        Ws();
      }
    }
    Node& n = doc_->nodes_[self];
    n.kind = Kind::kObject;
    n.count = static_cast<uint32_t>(members.size());
    n.first = static_cast<uint32_t>(doc_->members_.size());
    doc_->members_.insert(doc_->members_.end(), members.begin(), members.end());
    return true;
  }

  bool Array(int depth) {
    if (depth > kMaxDepth) return false;
    const uint32_t self = Add(Node());
    ++p_;  // '['
    Ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      Node& n = doc_->nodes_[self];
      n.kind = Kind::kArray;
      n.first = static_cast<uint32_t>(doc_->elements_.size());
      return true;
    }
    if (p_ < end_ && Numbers(self)) return true;
    std::vector<uint32_t>& elements = elements_[depth];
    elements.clear();
    while (true) {
      elements.push_back(static_cast<uint32_t>(doc_->nodes_.size()));
      if (!Value(depth)) return false;
      Ws();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        break;
      }
      if (*p_ != ',') return false;
      ++p_;
      Ws();
    }
    Node& n = doc_->nodes_[self];
    n.kind = Kind::kArray;
    n.count = static_cast<uint32_t>(elements.size());
    n.first = static_cast<uint32_t>(doc_->elements_.size());
    doc_->elements_.insert(doc_->elements_.end(), elements.begin(), elements.end());
    return true;
  }

  // An array at p_ (its first element) that looks like numbers (its first
  // byte begins one): kept as its place in the text, up to the first ']',
  // and its count (commas + 1), checked later (ForEachElement,
  // CheckUnread). False, with p_ unmoved, when it does not look so.
  bool Numbers(uint32_t self) {
    if (!IsDigit(*p_) && *p_ != '-' && *p_ != 'N' && *p_ != 'I') return false;
    size_t commas = 0;
    const char* close = CloseAndCommas(p_, end_, &commas);
    if (close == nullptr || commas >= std::numeric_limits<uint32_t>::max() - 1) return false;
    Node& n = doc_->nodes_[self];
    n.kind = Kind::kNumbers;
    n.count = static_cast<uint32_t>(commas + 1);
    n.at = static_cast<size_t>(p_ - doc_->base_);
    p_ = close + 1;
    return true;
  }

  LazyDoc* doc_;
  const char* p_;
  const char* end_;
  // Per depth (1 to kMaxDepth, sized once: a reference to one stays valid
  // while deeper ones are read): the members or elements of the container
  // being read.
  std::vector<std::vector<LazyDoc::Member>> members_;
  std::vector<std::vector<uint32_t>> elements_;
  std::unique_ptr<simdjson::dom::parser> parser_;
};

bool LazyDoc::ReadJson(std::string_view text) {
  Clear();
  // Every value takes at least a byte, so node and member indexes fit 32 bits.
  if (text.size() >= std::numeric_limits<uint32_t>::max()) return false;
  // Every model is an object (a cheap first refusal).
  const size_t last = text.find_last_not_of(" \n\r\t");
  if (last == std::string_view::npos || text[last] != '}') return false;
  ubjson_ = false;
  base_ = text.data();
  end_ = text.data() + text.size();
  if (LazyJsonReader(this, text).Read()) return true;
  Clear();
  return false;
}

// ---------------------------------------------------------------------------
// UBJSON

class LazyUbjsonReader {
 public:
  LazyUbjsonReader(LazyDoc* doc, std::string_view b)
      : doc_(doc), b_(b), members_(kMaxDepth + 1), elements_(kMaxDepth + 1) {}

  bool Read() {
    char m;
    return Marker(&m) && Value(m, 0) && pos_ == b_.size();
  }

 private:
  using Node = LazyDoc::Node;
  using Kind = LazyDoc::Kind;

  uint32_t Add(const Node& n) {
    doc_->nodes_.push_back(n);
    return static_cast<uint32_t>(doc_->nodes_.size() - 1);
  }

  // The next marker; 'N' (no-op) is left to the full reader.
  bool Marker(char* m) {
    if (pos_ >= b_.size()) return false;
    *m = b_[pos_++];
    return *m != 'N';
  }

  template <typename T>
  bool BigEndian(T* out) {
    if (b_.size() - pos_ < sizeof(T)) return false;
    using U = std::conditional_t<
        sizeof(T) == 1, uint8_t,
        std::conditional_t<sizeof(T) == 2, uint16_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
    U v = 0;
    for (size_t k = 0; k < sizeof(T); ++k) v = static_cast<U>((v << 8) | static_cast<uint8_t>(b_[pos_ + k]));
    pos_ += sizeof(T);
    *out = std::bit_cast<T>(v);
    return true;
  }

  bool Integer(char m, int64_t* v) {
    switch (m) {
      case 'i': {
        int8_t x;
        if (!BigEndian(&x)) return false;
        *v = x;
        return true;
      }
      case 'U': {
        uint8_t x;
        if (!BigEndian(&x)) return false;
        *v = x;
        return true;
      }
      case 'I': {
        int16_t x;
        if (!BigEndian(&x)) return false;
        *v = x;
        return true;
      }
      case 'l': {
        int32_t x;
        if (!BigEndian(&x)) return false;
        *v = x;
        return true;
      }
      case 'L': return BigEndian(v);
      default: return false;
    }
  }

  // A length or count: at most the bytes left (as ubjson_reader.cc).
  bool Length(int64_t* n) {
    char m;
    if (!Marker(&m) || !Integer(m, n)) return false;
    return *n >= 0 && static_cast<uint64_t>(*n) <= b_.size() - pos_ &&
           *n < std::numeric_limits<uint32_t>::max();
  }

  bool Bytes(std::string_view* s) {
    int64_t n;
    if (!Length(&n)) return false;
    *s = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  static size_t Width(char type) {
    switch (type) {
      case 'i':
      case 'U': return 1;
      case 'I': return 2;
      case 'l':
      case 'd': return 4;
      case 'L':
      case 'D': return 8;
      default: return 0;
    }
  }

  bool Value(char m, int depth) {
    Node n;
    switch (m) {
      case 'Z': Add(n); return true;
      case 'T':
      case 'F':
        n.kind = Kind::kBool;
        n.i = m == 'T';
        Add(n);
        return true;
      case 'i':
      case 'U':
      case 'I':
      case 'l':
      case 'L':
        n.kind = Kind::kInt;
        if (!Integer(m, &n.i)) return false;
        Add(n);
        return true;
      case 'd': {
        float x;
        if (!BigEndian(&x)) return false;
        n.kind = Kind::kDouble;
        n.d = x;
        Add(n);
        return true;
      }
      case 'D': {
        n.kind = Kind::kDouble;
        if (!BigEndian(&n.d)) return false;
        Add(n);
        return true;
      }
      case 'C':
        if (pos_ >= b_.size()) return false;
        n.kind = Kind::kString;
        n.s = b_.data() + pos_++;
        n.count = 1;
        Add(n);
        return true;
      case 'S':
      case 'H': {
        std::string_view s;
        if (!Bytes(&s)) return false;
        n.kind = Kind::kString;
        n.s = s.data();
        n.count = static_cast<uint32_t>(s.size());
        Add(n);
        return true;
      }
      case '[': return Array(depth + 1);
      case '{': return Object(depth + 1);
      default: return false;
    }
  }

  // After '[' or '{': the count (-1: none), and a typed array's element type.
  bool Header(char* type, int64_t* count) {
    *type = 0;
    *count = -1;
    if (pos_ < b_.size() && b_[pos_] == '$') {
      ++pos_;
      if (pos_ >= b_.size()) return false;
      *type = b_[pos_++];
      // Zero-byte element types are left to the full reader (which refuses them).
      if (*type == 'Z' || *type == 'N' || *type == 'T' || *type == 'F' || pos_ >= b_.size() ||
          b_[pos_] != '#')
        return false;
    }
    if (pos_ < b_.size() && b_[pos_] == '#') {
      ++pos_;
      if (!Length(count)) return false;
    }
    return true;
  }

  // In an uncounted container: true when an element follows, false past `close`.
  bool More(char close, bool* failed) {
    if (pos_ >= b_.size() || b_[pos_] == 'N') return !(*failed = true);
    if (b_[pos_] != close) return true;
    ++pos_;
    return false;
  }

  bool Array(int depth) {
    if (depth > kMaxDepth) return false;
    char type;
    int64_t count;
    const uint32_t self = Add(Node());
    if (!Header(&type, &count)) return false;
    if (const size_t width = Width(type)) {
      if (static_cast<uint64_t>(count) > (b_.size() - pos_) / width) return false;
      Node& n = doc_->nodes_[self];
      n.kind = Kind::kNumbers;
      n.type = type;
      n.count = static_cast<uint32_t>(count);
      n.at = pos_;
      pos_ += static_cast<size_t>(count) * width;
      return true;
    }
    std::vector<uint32_t>& elements = elements_[depth];
    elements.clear();
    bool failed = false;
    for (int64_t k = 0; count < 0 || k < count; ++k) {
      if (count < 0 && !More(']', &failed)) {
        if (failed) return false;
        break;
      }
      char m = type;
      elements.push_back(static_cast<uint32_t>(doc_->nodes_.size()));
      if ((type == 0 && !Marker(&m)) || !Value(m, depth)) return false;
    }
    Node& n = doc_->nodes_[self];
    n.kind = Kind::kArray;
    n.count = static_cast<uint32_t>(elements.size());
    n.first = static_cast<uint32_t>(doc_->elements_.size());
    doc_->elements_.insert(doc_->elements_.end(), elements.begin(), elements.end());
    return true;
  }

  bool Object(int depth) {
    if (depth > kMaxDepth) return false;
    char type;
    int64_t count;
    const uint32_t self = Add(Node());
    if (!Header(&type, &count)) return false;
    std::vector<LazyDoc::Member>& members = members_[depth];
    members.clear();
    bool failed = false;
    for (int64_t k = 0; count < 0 || k < count; ++k) {
      if (count < 0 && !More('}', &failed)) {
        if (failed) return false;
        break;
      }
      std::string_view key;
      char m = type;
      if (!Bytes(&key)) return false;
      const uint32_t value = static_cast<uint32_t>(doc_->nodes_.size());
      if ((type == 0 && !Marker(&m)) || !Value(m, depth)) return false;
      members.push_back({key, value});
    }
    Node& n = doc_->nodes_[self];
    n.kind = Kind::kObject;
    n.count = static_cast<uint32_t>(members.size());
    n.first = static_cast<uint32_t>(doc_->members_.size());
    doc_->members_.insert(doc_->members_.end(), members.begin(), members.end());
    return true;
  }

  LazyDoc* doc_;
  std::string_view b_;
  size_t pos_ = 0;
  std::vector<std::vector<LazyDoc::Member>> members_;
  std::vector<std::vector<uint32_t>> elements_;
};

bool LazyDoc::ReadUbjson(std::string_view bytes) {
  Clear();
  if (bytes.size() >= std::numeric_limits<uint32_t>::max()) return false;  // as ReadJson
  ubjson_ = true;
  base_ = bytes.data();
  end_ = bytes.data() + bytes.size();
  if (LazyUbjsonReader(this, bytes).Read()) return true;
  Clear();
  return false;
}

}  // namespace fb
