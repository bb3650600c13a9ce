// Thrift's compact protocol, the encoding of Parquet's footer and page
// headers: a bounded reader for untrusted bytes and a small writer.
//
// Why not Apache Thrift's C++ library (libthrift-dev): it needs code
// generated from parquet.thrift (a third-party file we would have to copy
// into the repository), it reports malformed input by throwing, and its
// generic protocol has no bound on nesting or container sizes unless every
// caller remembers to set them. Parquet uses a handful of structs and types;
// this reader is ~250 lines, never allocates more than the input's size,
// rejects nesting deeper than kMaxDepth, and reports every malformed byte as
// a Status (see README "Dependencies").
//
// Reader rules: every length and element count is checked against the bytes
// that remain (each element takes at least one byte), varints are at most 10
// bytes, unknown fields are skipped (so newer writers' additions are fine),
// and struct nesting is limited.
//
// Thread safety: values; one thread per reader or writer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fb::thrift {

enum Type : uint8_t {
  kStop = 0,
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

inline constexpr int kMaxDepth = 32;

class CompactReader {
 public:
  CompactReader(const char* data, size_t size) : p_(data), begin_(data), end_(data + size) {}

  // Reads one struct: calls `field(id, type)` for each field; the callback
  // must consume the value (with the readers below or Skip).
  Status Struct(const std::function<Status(int16_t id, uint8_t type)>& field);
  Status Skip(uint8_t type);

  Result<int32_t> I32(uint8_t type);
  Result<int64_t> I64(uint8_t type);
  Result<bool> Bool(uint8_t type);
  Result<std::string> Binary(uint8_t type);
  // A list's header: its element type and count (count checked against the
  // remaining bytes).
  Status ListHeader(uint8_t type, uint8_t* elem_type, uint32_t* count);
  // Reads a list of structs, calling `elem()` once per element.
  Status StructList(uint8_t type, const std::function<Status()>& elem, uint32_t max_count = UINT32_MAX);

  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  Result<uint64_t> Varint();
  Status Need(size_t n) const;
  const char* p_;
  const char* begin_;
  const char* end_;
  int depth_ = 0;
  bool pending_bool_ = false;  // a field's boolean travels in its header
  bool bool_value_ = false;
};

class CompactWriter {
 public:
  void BeginStruct();
  void EndStruct();  // writes STOP
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBool(int16_t id, bool v);
  void FieldByte(int16_t id, int8_t v);
  void FieldBinary(int16_t id, std::string_view v);
  void FieldStructBegin(int16_t id);  // then the struct's fields, then EndStruct
  void FieldListBegin(int16_t id, uint8_t elem_type, uint32_t count);
  // List elements.
  void I32(int32_t v) { Varint(ZigZag(v)); }
  void Binary(std::string_view v);
  void ListStructBegin() { BeginStruct(); }

  const std::string& bytes() const { return out_; }
  std::string& bytes() { return out_; }

 private:
  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void Varint(uint64_t v);
  void FieldHeader(int16_t id, uint8_t type);
  std::string out_;
  std::vector<int16_t> last_id_;
};

}  // namespace fb::thrift
