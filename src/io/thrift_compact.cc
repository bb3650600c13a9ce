#include "io/thrift_compact.h"

#include <cstring>

namespace fb::thrift {

namespace {
Status Malformed(const std::string& what) { return InvalidData("malformed Thrift metadata: " + what); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
}  // namespace

Status CompactReader::Need(size_t n) const {
  if (n > remaining()) return Malformed("needs " + std::to_string(n) + " bytes past the end");
  return Status::Ok();
}

Result<uint64_t> CompactReader::Varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p_ == end_) return Malformed("varint past the end");
    const uint8_t b = static_cast<uint8_t>(*p_++);
    if (shift == 63 && b > 1) return Malformed("varint too long");
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Malformed("varint too long");
}

Status CompactReader::Struct(const std::function<Status(int16_t id, uint8_t type)>& field) {
  if (++depth_ > kMaxDepth) return Malformed("structs nested too deeply");
  int16_t last = 0;
  for (;;) {
    FB_RETURN_IF_ERROR(Need(1));
    const uint8_t h = static_cast<uint8_t>(*p_++);
    const uint8_t type = h & 0x0f;
    if (type == kStop) break;
    int16_t id;
    if ((h >> 4) != 0) {
      id = static_cast<int16_t>(last + (h >> 4));
    } else {
      FB_ASSIGN_OR_RETURN(uint64_t raw, Varint());
      const int64_t v = UnZigZag(raw);
      if (v < INT16_MIN || v > INT16_MAX) return Malformed("field id out of range");
      id = static_cast<int16_t>(v);
    }
    last = id;
    if (type == kTrue || type == kFalse) {
      pending_bool_ = true;
      bool_value_ = type == kTrue;
    }
    FB_RETURN_IF_ERROR(field(id, type));
    pending_bool_ = false;
  }
  --depth_;
  return Status::Ok();
}

Status CompactReader::Skip(uint8_t type) {
  switch (type) {
    case kTrue:
    case kFalse:
      if (pending_bool_) {
        pending_bool_ = false;
        return Status::Ok();
      }
      FB_RETURN_IF_ERROR(Need(1));  // a boolean inside a list: one byte
      ++p_;
      return Status::Ok();
    case kByte:
      FB_RETURN_IF_ERROR(Need(1));
      ++p_;
      return Status::Ok();
    case kI16:
    case kI32:
    case kI64: return Varint().status();
    case kDouble:
      FB_RETURN_IF_ERROR(Need(8));
      p_ += 8;
      return Status::Ok();
    case kBinary: {
      FB_ASSIGN_OR_RETURN(uint64_t n, Varint());
      FB_RETURN_IF_ERROR(Need(n));
      p_ += n;
      return Status::Ok();
    }
    case kList:
    case kSet: {
      uint8_t et;
      uint32_t n;
      FB_RETURN_IF_ERROR(ListHeader(type, &et, &n));
      if (++depth_ > kMaxDepth) return Malformed("containers nested too deeply");
      for (uint32_t i = 0; i < n; ++i)
        FB_RETURN_IF_ERROR(Skip(et == kFalse ? static_cast<uint8_t>(kTrue) : et));
      --depth_;
      return Status::Ok();
    }
    case kMap: {
      FB_ASSIGN_OR_RETURN(uint64_t n, Varint());
      if (n == 0) return Status::Ok();
      FB_RETURN_IF_ERROR(Need(1));
      const uint8_t kv = static_cast<uint8_t>(*p_++);
      if (n > remaining()) return Malformed("map larger than the metadata");
      if (++depth_ > kMaxDepth) return Malformed("containers nested too deeply");
      for (uint64_t i = 0; i < n; ++i) {
        FB_RETURN_IF_ERROR(Skip(kv >> 4));
        FB_RETURN_IF_ERROR(Skip(kv & 0x0f));
      }
      --depth_;
      return Status::Ok();
    }
    case kStruct: return Struct([this](int16_t, uint8_t t) { return Skip(t); });
    default: return Malformed("unknown type " + std::to_string(type));
  }
}

Result<int32_t> CompactReader::I32(uint8_t type) {
  if (type == kByte) {
    FB_RETURN_IF_ERROR(Need(1));
    return static_cast<int32_t>(static_cast<int8_t>(*p_++));
  }
  if (type != kI32 && type != kI16) return Malformed("expected an i32, got type " + std::to_string(type));
  FB_ASSIGN_OR_RETURN(uint64_t raw, Varint());
  const int64_t v = UnZigZag(raw);
  if (v < INT32_MIN || v > INT32_MAX) return Malformed("i32 out of range");
  return static_cast<int32_t>(v);
}

Result<int64_t> CompactReader::I64(uint8_t type) {
  if (type == kI32 || type == kI16 || type == kByte) {
    FB_ASSIGN_OR_RETURN(int32_t v, I32(type));
    return int64_t{v};
  }
  if (type != kI64) return Malformed("expected an i64, got type " + std::to_string(type));
  FB_ASSIGN_OR_RETURN(uint64_t raw, Varint());
  return UnZigZag(raw);
}

Result<bool> CompactReader::Bool(uint8_t type) {
  if (type != kTrue && type != kFalse) return Malformed("expected a bool");
  if (pending_bool_) {
    pending_bool_ = false;
    return bool_value_;
  }
  FB_RETURN_IF_ERROR(Need(1));
  return *p_++ == kTrue;
}

Result<std::string> CompactReader::Binary(uint8_t type) {
  if (type != kBinary) return Malformed("expected a string, got type " + std::to_string(type));
  FB_ASSIGN_OR_RETURN(uint64_t n, Varint());
  FB_RETURN_IF_ERROR(Need(n));
  std::string s(p_, n);
  p_ += n;
  return s;
}

Status CompactReader::ListHeader(uint8_t type, uint8_t* elem_type, uint32_t* count) {
  if (type != kList && type != kSet) return Malformed("expected a list, got type " + std::to_string(type));
  FB_RETURN_IF_ERROR(Need(1));
  const uint8_t h = static_cast<uint8_t>(*p_++);
  uint64_t n = h >> 4;
  if (n == 15) {
    FB_ASSIGN_OR_RETURN(n, Varint());
  }
  *elem_type = h & 0x0f;
  // Every element takes at least one byte.
  if (n > remaining())
    return Malformed("list of " + std::to_string(n) + " elements in " + std::to_string(remaining()) +
                     " bytes");
  *count = static_cast<uint32_t>(n);
  return Status::Ok();
}

Status CompactReader::StructList(uint8_t type, const std::function<Status()>& elem, uint32_t max_count) {
  uint8_t et;
  uint32_t n;
  FB_RETURN_IF_ERROR(ListHeader(type, &et, &n));
  if (et != kStruct) return Malformed("expected a list of structs");
  if (n > max_count)
    return Malformed("list of " + std::to_string(n) + " structs (at most " + std::to_string(max_count) + ")");
  for (uint32_t i = 0; i < n; ++i) FB_RETURN_IF_ERROR(elem());
  return Status::Ok();
}

// --- writer ---

void CompactWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void CompactWriter::BeginStruct() { last_id_.push_back(0); }

void CompactWriter::EndStruct() {
  out_.push_back(static_cast<char>(kStop));
  last_id_.pop_back();
}

void CompactWriter::FieldHeader(int16_t id, uint8_t type) {
  int16_t& last = last_id_.back();
  const int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_.push_back(static_cast<char>(type));
    Varint(ZigZag(id));
  }
  last = id;
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, kI32);
  Varint(ZigZag(v));
}
void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, kI64);
  Varint(ZigZag(v));
}
void CompactWriter::FieldBool(int16_t id, bool v) { FieldHeader(id, v ? kTrue : kFalse); }
void CompactWriter::FieldByte(int16_t id, int8_t v) {
  FieldHeader(id, kByte);
  out_.push_back(static_cast<char>(v));
}
void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, kBinary);
  Binary(v);
}
void CompactWriter::Binary(std::string_view v) {
  Varint(v.size());
  out_.append(v);
}
void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, kStruct);
  BeginStruct();
}
void CompactWriter::FieldListBegin(int16_t id, uint8_t elem_type, uint32_t count) {
  FieldHeader(id, kList);
  if (count < 15) {
    out_.push_back(static_cast<char>((count << 4) | elem_type));
  } else {
    out_.push_back(static_cast<char>(0xf0 | elem_type));
    Varint(count);
  }
}

}  // namespace fb::thrift
