// A pickle reader that executes nothing: interprets the opcodes of pickle
// protocols 2 to 5 into a PickleGraph (pickle_value.h).
//
// Safety contract (pickles are untrusted input):
//   - Only allowlisted globals are accepted (pickle_globals.h); any other
//     GLOBAL / STACK_GLOBAL is InvalidData naming the global and the byte
//     offset. REDUCE, NEWOBJ and BUILD never call anything: allowlisted
//     callables are either decoded (numpy arrays, dtypes, scalars, bytes,
//     sets) or recorded as inert objects.
//   - Every length is checked against the bytes remaining before anything is
//     allocated; values, stack, marks and memo entries are capped; nothing
//     recurses on the input's nesting. Truncated or malformed input is
//     InvalidData with the byte offset, never a crash or a hang.
//   - joblib files: a NumpyArrayWrapper's BUILD consumes the array bytes that
//     follow it in the stream (with joblib >= 1.2's alignment padding when
//     the wrapper says so), or the nested protocol-2 pickle joblib writes for
//     object arrays.
//
// Thread safety: Unpickle is reentrant; it shares nothing.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "model/import/pickle_value.h"

namespace fb::pickle {

struct UnpickleLimits {
  size_t max_values = size_t{1} << 22;  // values in the graph (each 96 bytes)
  size_t max_stack = size_t{1} << 21;   // stack entries
  size_t max_marks = size_t{1} << 16;   // open MARKs (nesting)
  size_t max_memo = size_t{1} << 22;    // memo entries
  size_t max_items = size_t{1} << 28;   // items of one list, set or dict (2^30 at most)
};

// Reads one pickle from the start of `bytes` up to its STOP opcode (bytes
// after STOP are ignored, as pickle.load does).
Result<PickleGraph> Unpickle(std::string_view bytes, const UnpickleLimits& limits = {});

}  // namespace fb::pickle
