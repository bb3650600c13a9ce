// The value tree a pickle describes, as data: what pickle_vm.h produces.
//
// Nothing here is executable. Objects are records (class reference, the
// arguments they were constructed with, the state BUILD gave them); numpy
// arrays, dtypes and scalars are decoded into plain values because the
// importer needs their contents. Bytes and array data read straight from the
// input are not copied: the value refers to the input (Value::view), so a
// PickleGraph must not outlive the bytes it was unpickled from. Values live
// in one arena (PickleGraph) and
// refer to each other by index, so shared references and even cycles (which a
// malicious pickle can build through the memo) cost nothing and never
// recurse on destruction.
//
// Thread safety: a PickleGraph is a plain value; const access from many
// threads is safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// A numpy dtype, enough to read sklearn's arrays: kind is numpy's `dtype.kind`
// ('b', 'i', 'u', 'f', 'O', 'U', 'S', 'V'); structured dtypes list fields.
struct DtypeField {
  std::string name;
  ValueId dtype = kNoValue;  // a kDtype value
  int64_t offset = 0;
};

struct Value {
  Kind kind = Kind::kNone;
  bool little_endian = true;       // kDtype: byte order of multi-byte items
  bool fortran = false;            // kArray: data in Fortran (column-major) order
  char dtype_kind = 0;             // kDtype: 'b', 'i', 'u', 'f', 'O', 'U', 'S', 'V'
  int64_t i = 0;                   // kBool / kInt; kDtype: itemsize
  double f = 0;                    // kFloat
  std::string text;                // kStr, kGlobal ("module.name"); kBytes, kArray: data made here
  std::string_view view;           // kBytes, kArray: data lying in the unpickled input (not copied)
  std::vector<ValueId> items;      // kTuple/kList/kSet elements, kDict key/value pairs, kArray objects
  std::vector<int64_t> shape;      // kArray
  std::vector<DtypeField> fields;  // kDtype (structured)
  ValueId cls = kNoValue;          // kObject: the kGlobal it is an instance of
  ValueId args = kNoValue;         // kObject: constructor arguments (a tuple), if any
  ValueId state = kNoValue;        // kObject: the state given by BUILD; kArray: its dtype
  uint64_t offset = 0;             // byte offset of the opcode that made it (for messages)

  // kBytes / kArray: the raw data, in the input or in `text`.
  std::string_view bytes() const { return view.data() != nullptr ? view : std::string_view(text); }
  // Makes this value's data the same bytes as `src`'s (a view stays a view).
  void ShareBytes(const Value& src) {
    view = src.view;
    if (view.data() == nullptr) text = src.text;
  }
};

struct PickleGraph {
  std::vector<Value> values;
  ValueId root = kNoValue;

  const Value& at(ValueId id) const { return values[static_cast<size_t>(id)]; }
};

}  // namespace fb::pickle
