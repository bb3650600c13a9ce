// The value tree a pickle describes, as data: what pickle_vm.h produces.
//
// Nothing here is executable. Objects are records (class reference, the
// arguments they were constructed with, the state BUILD gave them); numpy
// arrays, dtypes and scalars are decoded into plain values because the
// importer needs their contents. Strings, bytes and array data read straight
// from the input are not copied: the value refers to the input (Value::text),
// so a PickleGraph must not outlive the bytes it was unpickled from. Values
// live in one arena (PickleGraph) and refer to each other by index, so shared
// references and even cycles (which a malicious pickle can build through the
// memo) cost nothing and never recurse on destruction; what they hold beyond
// scalars (items, shapes, fields) lies in the graph's Pool, so a value is a
// plain 96-byte record with nothing to free.
//
// Thread safety: a PickleGraph is a plain value; const access from many
// threads is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace fb::pickle {

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

enum class Kind : uint8_t {
  kNone,
  kBool,
  kInt,     // fits int64
  kBigInt,  // an integer beyond int64 (kept only so it can be reported)
  kFloat,
  kStr,    // UTF-8
  kBytes,  // bytes and bytearray
  kTuple,
  kList,
  kSet,     // set and frozenset
  kDict,    // items: key, value, key, value, ...
  kGlobal,  // a class or function reference: text = "module.name"
  kObject,  // an instance of an allowlisted class: cls, args, state
  kDtype,   // numpy dtype
  kArray,   // numpy ndarray (numeric data in `text`, object data in `items`)
};

const char* KindName(Kind kind);

// Where a graph keeps what it builds beyond its values (container items,
// array shapes, dtype fields, text made here): runs of memory that never
// move, so a Value may point into them and stay trivially copyable.
class Pool {
 public:
  Pool() = default;
  Pool(Pool&&) = default;
  Pool& operator=(Pool&&) = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // `n` uninitialised objects of a trivial type T (n may be 0).
  template <typename T>
  T* Allocate(size_t n) {
    static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 8);
    return static_cast<T*>(AllocateBytes(n * sizeof(T)));
  }
  // A copy of `s` that lives as long as the pool.
  std::string_view Copy(std::string_view s);

 private:
  void* AllocateBytes(size_t bytes);
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  std::byte* next_ = nullptr;
  size_t left_ = 0;
};

// The items of a tuple, list, set or dict (key, value, key, value, ...) or
// of an object array: ids in the graph's pool. Read like a span; the VM
// appends through PickleGraph::Append, which moves a run that outgrows its
// room to a bigger one.
class Ids {
 public:
  const ValueId* begin() const { return data_; }
  const ValueId* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ValueId operator[](size_t k) const { return data_[k]; }
  ValueId front() const { return data_[0]; }
  ValueId back() const { return data_[size_ - 1]; }
  std::vector<ValueId> ToVector() const { return {begin(), end()}; }
  // The same items without the room to grow in place: a value that shares
  // another's items must not append into the room that follows them.
  Ids Shared() const {
    Ids s = *this;
    s.capacity_ = s.size_;
    return s;
  }

 private:
  friend struct PickleGraph;
  ValueId* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

// A numpy dtype, enough to read sklearn's arrays: kind is numpy's `dtype.kind`
// ('b', 'i', 'u', 'f', 'O', 'U', 'S', 'V'); structured dtypes list fields.
struct DtypeField {
  std::string_view name;     // in the input
  ValueId dtype = kNoValue;  // a kDtype value
  int64_t offset = 0;
};

// Trivially copyable (96 bytes): what a value holds beyond its scalars lies
// in the input or in the graph's pool. The VM shares one value for None,
// True, False, the empty tuple and the small integers, as Python does;
// nothing ever changes those.
struct Value {
  Kind kind = Kind::kNone;
  bool little_endian = true;  // kDtype: byte order of multi-byte items
  bool fortran = false;       // kArray: data in Fortran (column-major) order
  char dtype_kind = 0;        // kDtype: 'b', 'i', 'u', 'f', 'O', 'U', 'S', 'V'
  ValueId cls = kNoValue;     // kObject: the kGlobal it is an instance of
  ValueId args = kNoValue;    // kObject: constructor arguments (a tuple), if any
  ValueId state = kNoValue;   // kObject: the state given by BUILD; kArray: its dtype
  int64_t i = 0;              // kBool / kInt; kGlobal: its GlobalRole; kDtype: itemsize
  double f = 0;               // kFloat
  // kStr (UTF-8), kGlobal ("module.name"); kBytes, kArray: the data. In the
  // unpickled input (not copied) or in the graph's pool.
  std::string_view text;
  Ids items;                           // kTuple/kList/kSet elements, kDict key/value pairs, kArray objects
  std::span<const int64_t> shape;      // kArray
  std::span<const DtypeField> fields;  // kDtype (structured)

  // kBytes / kArray: the raw data.
  std::string_view bytes() const { return text; }
};
static_assert(std::is_trivially_copyable_v<Value>);

// The values live in chunks that never move (a reference to a value stays
// valid while the graph grows), each chunk's pages mapped in one call.
class PickleGraph {
 public:
  PickleGraph() = default;
  PickleGraph(PickleGraph&&) = default;
  PickleGraph& operator=(PickleGraph&&) = default;

  ValueId root = kNoValue;
  Pool pool;

  size_t size() const { return size_; }
  const Value& at(ValueId id) const { return Slot(id); }
  Value& mutable_at(ValueId id) { return Slot(id); }
  // A new value of `kind` (the caller checks the limit on values).
  ValueId Add(Kind kind);

  // Appends `n` ids to at(id).items (a list, set or dict), moving the items
  // to a run twice as large when they outgrow their room.
  void Append(ValueId id, const ValueId* items, size_t n);
  // New items holding a copy of `n` ids (room for exactly those).
  Ids MakeIds(const ValueId* items, size_t n);

 private:
  static constexpr int kChunkBits = 10;  // 1024 values, 96 KiB a chunk
  Value& Slot(ValueId id) const {
    auto k = static_cast<size_t>(id);
    return chunks_[k >> kChunkBits][k & ((size_t{1} << kChunkBits) - 1)];
  }
  std::vector<Value*> chunks_;
  std::vector<std::unique_ptr<std::byte[]>> storage_;
  size_t size_ = 0;
};

}  // namespace fb::pickle
