#include "model/import/ubjson_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace fb {
namespace {

// The steps return true, or false with the error kept in error_ (no Status
// is made per value: a 500-round model has about 600,000 of them).
class UbjsonReader {
 public:
  explicit UbjsonReader(std::string_view b) : b_(b) {}

  bool Fail(const std::string& what) {
    error_ = InvalidData(fmt::format("UBJSON: {} at byte {}", what, pos_));
    return false;
  }
  Status TakeError() { return std::move(error_); }

  bool Value(nlohmann::json* out, int depth) {
    char m;
    return Marker(&m) && ValueOfType(m, out, depth);
  }

  bool at_end() const { return pos_ == b_.size(); }

 private:
  bool Marker(char* m) {
    // 'N' (no-op) may pad anywhere a value may start.
    do {
      if (pos_ >= b_.size()) return Fail("unexpected end of data");
      *m = b_[pos_++];
    } while (*m == 'N');
    return true;
  }

  template <typename T>
  bool BigEndian(T* out) {
    if (b_.size() - pos_ < sizeof(T)) return Fail("unexpected end of data");
    unsigned char raw[sizeof(T)];
    std::memcpy(raw, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    if constexpr (std::endian::native == std::endian::little) {
      for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(raw[i], raw[sizeof(T) - 1 - i]);
    }
    std::memcpy(out, raw, sizeof(T));
    return true;
  }

  template <typename T>
  bool IntegerAs(int64_t* v) {
    T x = 0;
    if (!BigEndian(&x)) return false;
    *v = x;
    return true;
  }

  // An integer of the type `m` (used for lengths and counts).
  bool Integer(char m, int64_t* v) {
    switch (m) {
      case 'i': return IntegerAs<int8_t>(v);
      case 'U': return IntegerAs<uint8_t>(v);
      case 'I': return IntegerAs<int16_t>(v);
      case 'l': return IntegerAs<int32_t>(v);
      case 'L': return IntegerAs<int64_t>(v);
      default: return Fail(fmt::format("expected an integer type, found marker 0x{:02x}", uint8_t(m)));
    }
  }

  // A length or count: an integer value, non-negative, at most the bytes left
  // (every element or character takes at least one byte).
  bool Length(int64_t* n) {
    char m;
    if (!Marker(&m) || !Integer(m, n)) return false;
    if (*n < 0 || static_cast<uint64_t>(*n) > b_.size() - pos_) return Fail(fmt::format("bad length {}", *n));
    return true;
  }

  bool String(std::string* s) {
    int64_t n;
    if (!Length(&n)) return false;
    s->assign(b_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  bool ValueOfType(char m, nlohmann::json* out, int depth) {
    switch (m) {
      case 'Z': *out = nullptr; return true;
      case 'T': *out = true; return true;
      case 'F': *out = false; return true;
      case 'i':
      case 'U':
      case 'I':
      case 'l':
      case 'L': {
        int64_t v;
        if (!Integer(m, &v)) return false;
        *out = v;
        return true;
      }
      case 'd': {
        float x = 0;
        if (!BigEndian(&x)) return false;
        *out = static_cast<double>(x);
        return true;
      }
      case 'D': {
        double x = 0;
        if (!BigEndian(&x)) return false;
        *out = x;
        return true;
      }
      case 'C': {
        if (pos_ >= b_.size()) return Fail("unexpected end of data");
        *out = std::string(1, b_[pos_++]);
        return true;
      }
      case 'S':
      case 'H': {
        std::string s;
        if (!String(&s)) return false;
        *out = std::move(s);
        return true;
      }
      case '[':
      case '{': return Container(m == '{', out, depth + 1);
      default: return Fail(fmt::format("unknown marker 0x{:02x}", uint8_t(m)));
    }
  }

  bool Container(bool object, nlohmann::json* out, int depth) {
    if (depth > kUbjsonMaxDepth) return Fail("nesting too deep");
    *out = object ? nlohmann::json::object() : nlohmann::json::array();
    char type = 0;
    int64_t count = -1;
    if (pos_ < b_.size() && b_[pos_] == '$') {
      ++pos_;
      if (pos_ >= b_.size()) return Fail("unexpected end of data");
      type = b_[pos_++];
      // Zero-byte element types would let a tiny file declare a huge container.
      if (type == 'Z' || type == 'N' || type == 'T' || type == 'F') return Fail("unsupported container type");
      if (pos_ >= b_.size() || b_[pos_] != '#') return Fail("typed container without a count");
    }
    if (pos_ < b_.size() && b_[pos_] == '#') {
      ++pos_;
      if (!Length(&count)) return false;
    }
    if (!object) {
      // Elements are made where they stay; a counted array's room is made
      // once, for no more elements than the bytes left can hold.
      auto& elements = out->get_ref<nlohmann::json::array_t&>();
      if (count > 0)
        elements.reserve(std::min(static_cast<size_t>(count), (b_.size() - pos_) / MinBytes(type)));
      for (int64_t i = 0; count < 0 || i < count; ++i) {
        if (count < 0) {
          const int next = Next(']');
          if (next < 0) return false;
          if (next == 0) break;
        }
        nlohmann::json& v = elements.emplace_back();
        if (!(type != 0 ? ValueOfType(type, &v, depth) : Value(&v, depth))) return false;
      }
      return true;
    }
    for (int64_t i = 0; count < 0 || i < count; ++i) {
      if (count < 0) {
        const int next = Next('}');
        if (next < 0) return false;
        if (next == 0) break;
      }
      std::string key;
      if (!String(&key)) return false;
      nlohmann::json v;
      if (!(type != 0 ? ValueOfType(type, &v, depth) : Value(&v, depth))) return false;
      (*out)[key] = std::move(v);
    }
    return true;
  }

  // The fewest bytes an element of a container of `type` takes (0: untyped).
  static size_t MinBytes(char type) {
    switch (type) {
      case 'I': return 2;
      case 'l':
      case 'd': return 4;
      case 'L':
      case 'D': return 8;
      default: return 1;
    }
  }

  // In an uncounted container: skips no-ops, then 1 when an element
  // follows, 0 past the `close` marker, -1 (error_ set) at the end of the data.
  int Next(char close) {
    while (pos_ < b_.size() && b_[pos_] == 'N') ++pos_;
    if (pos_ >= b_.size()) return Fail("unterminated container") ? 1 : -1;
    if (b_[pos_] != close) return 1;
    ++pos_;
    return 0;
  }

  std::string_view b_;
  size_t pos_ = 0;
  Status error_;
};

}  // namespace

Result<nlohmann::json> ParseUbjson(std::string_view bytes) {
  UbjsonReader r(bytes);
  nlohmann::json out;
  if (!r.Value(&out, 0)) return r.TakeError();
  if (!r.at_end()) {
    r.Fail("trailing bytes after the value");
    return r.TakeError();
  }
  return out;
}

}  // namespace fb
