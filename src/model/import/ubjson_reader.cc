#include "model/import/ubjson_reader.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

namespace fb {
namespace {

class UbjsonReader {
 public:
  explicit UbjsonReader(std::string_view b) : b_(b) {}

  Status Fail(const std::string& what) const {
    return InvalidData(fmt::format("UBJSON: {} at byte {}", what, pos_));
  }

  Status Value(nlohmann::json* out, int depth) {
    char m;
    FB_RETURN_IF_ERROR(Marker(&m));
    return ValueOfType(m, out, depth);
  }

  bool at_end() const { return pos_ == b_.size(); }

 private:
  Status Marker(char* m) {
    // 'N' (no-op) may pad anywhere a value may start.
    do {
      if (pos_ >= b_.size()) return Fail("unexpected end of data");
      *m = b_[pos_++];
    } while (*m == 'N');
    return Status::Ok();
  }

  template <typename T>
  Status BigEndian(T* out) {
    if (b_.size() - pos_ < sizeof(T)) return Fail("unexpected end of data");
    unsigned char raw[sizeof(T)];
    std::memcpy(raw, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    if constexpr (std::endian::native == std::endian::little) {
      for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(raw[i], raw[sizeof(T) - 1 - i]);
    }
    std::memcpy(out, raw, sizeof(T));
    return Status::Ok();
  }

  // An integer of the type `m` (used for lengths and counts).
  Status Integer(char m, int64_t* v) {
    switch (m) {
      case 'i': {
        int8_t x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *v = x;
        return Status::Ok();
      }
      case 'U': {
        uint8_t x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *v = x;
        return Status::Ok();
      }
      case 'I': {
        int16_t x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *v = x;
        return Status::Ok();
      }
      case 'l': {
        int32_t x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *v = x;
        return Status::Ok();
      }
      case 'L': {
        int64_t x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *v = x;
        return Status::Ok();
      }
      default: return Fail(fmt::format("expected an integer type, found marker 0x{:02x}", uint8_t(m)));
    }
  }

  // A length or count: an integer value, non-negative, at most the bytes left
  // (every element or character takes at least one byte).
  Status Length(int64_t* n) {
    char m;
    FB_RETURN_IF_ERROR(Marker(&m));
    FB_RETURN_IF_ERROR(Integer(m, n));
    if (*n < 0 || static_cast<uint64_t>(*n) > b_.size() - pos_) return Fail(fmt::format("bad length {}", *n));
    return Status::Ok();
  }

  Status String(std::string* s) {
    int64_t n;
    FB_RETURN_IF_ERROR(Length(&n));
    s->assign(b_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return Status::Ok();
  }

  Status ValueOfType(char m, nlohmann::json* out, int depth) {
    switch (m) {
      case 'Z': *out = nullptr; return Status::Ok();
      case 'T': *out = true; return Status::Ok();
      case 'F': *out = false; return Status::Ok();
      case 'i':
      case 'U':
      case 'I':
      case 'l':
      case 'L': {
        int64_t v;
        FB_RETURN_IF_ERROR(Integer(m, &v));
        *out = v;
        return Status::Ok();
      }
      case 'd': {
        float x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *out = static_cast<double>(x);
        return Status::Ok();
      }
      case 'D': {
        double x = 0;
        FB_RETURN_IF_ERROR(BigEndian(&x));
        *out = x;
        return Status::Ok();
      }
      case 'C': {
        if (pos_ >= b_.size()) return Fail("unexpected end of data");
        *out = std::string(1, b_[pos_++]);
        return Status::Ok();
      }
      case 'S':
      case 'H': {
        std::string s;
        FB_RETURN_IF_ERROR(String(&s));
        *out = std::move(s);
        return Status::Ok();
      }
      case '[':
      case '{': return Container(m == '{', out, depth + 1);
      default: return Fail(fmt::format("unknown marker 0x{:02x}", uint8_t(m)));
    }
  }

  Status Container(bool object, nlohmann::json* out, int depth) {
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
      FB_RETURN_IF_ERROR(Length(&count));
    }
    const char close = object ? '}' : ']';
    for (int64_t i = 0; count < 0 || i < count; ++i) {
      if (count < 0) {
        // Skip no-ops, then look for the end marker.
        while (pos_ < b_.size() && b_[pos_] == 'N') ++pos_;
        if (pos_ >= b_.size()) return Fail("unterminated container");
        if (b_[pos_] == close) {
          ++pos_;
          break;
        }
      }
      std::string key;
      if (object) FB_RETURN_IF_ERROR(String(&key));
      nlohmann::json v;
      if (type != 0) {
        FB_RETURN_IF_ERROR(ValueOfType(type, &v, depth));
      } else {
        FB_RETURN_IF_ERROR(Value(&v, depth));
      }
      if (object) {
        (*out)[key] = std::move(v);
      } else {
        out->push_back(std::move(v));
      }
    }
    return Status::Ok();
  }

  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

Result<nlohmann::json> ParseUbjson(std::string_view bytes) {
  UbjsonReader r(bytes);
  nlohmann::json out;
  FB_RETURN_IF_ERROR(r.Value(&out, 0));
  if (!r.at_end()) return r.Fail("trailing bytes after the value");
  return out;
}

}  // namespace fb
