// numpy, joblib and builtin reconstruction as data, for pickle_vm.cc, plus
// small accessors the importers use to read a PickleGraph.
//
// Every function validates what it reads (kinds, sizes, counts) and returns
// InvalidData with a plain message (the VM adds the byte offset).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/import/pickle_globals.h"
#include "model/import/pickle_value.h"

namespace fb::pickle {

// REDUCE of an allowlisted builtin/numpy callable named `fn`: writes the
// decoded value into g->values[out].
Status ReduceBuiltin(PickleGraph* g, GlobalRole role, const std::string& fn, ValueId args, ValueId out);
// BUILD on an array made by _reconstruct: state (version, shape, dtype, is_fortran, data).
Status BuildArray(PickleGraph* g, ValueId array, ValueId state);
// BUILD on a dtype: state (version, byteorder, subarray, names, fields, elsize, alignment, flags[, meta]).
Status BuildDtype(PickleGraph* g, ValueId dtype, ValueId state);

struct WrapperInfo {
  std::span<const int64_t> shape;  // in the graph's pool
  bool fortran = false;
  ValueId dtype = kNoValue;
  bool has_alignment = false;  // joblib >= 1.2: padding byte + padding precede the data
  uint64_t nbytes = 0;         // element count x itemsize (checked for overflow)
};
// Reads a joblib NumpyArrayWrapper's state dict (its shape into g's pool).
Status ReadWrapperState(PickleGraph* g, ValueId state, WrapperInfo* out);

// Element count of `shape`, or an error if negative or beyond 2^40.
Result<uint64_t> ElementCount(std::span<const int64_t> shape);

// Accessors (return kNoValue / errors instead of asserting).
ValueId DictGet(const PickleGraph& g, ValueId dict, std::string_view key);
bool IsStr(const PickleGraph& g, ValueId v, std::string_view s);
// An integer (int, bool or an integral numpy scalar already decoded).
Result<int64_t> AsInt(const PickleGraph& g, ValueId v, std::string_view what);

}  // namespace fb::pickle
