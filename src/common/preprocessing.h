// Preprocessing: a model's input transforms (scikit-learn Pipeline steps in
// front of the trees) as data, and the row interpreter that applies them.
//
// The importer (model/import) compiles the steps into this small register
// program; the table readers (io/) fill the raw input cells of each row and
// call Run, inside their parallel parse of a chunk. It lives in common/
// because both sides need it and neither may see the other.
//
// Registers ("slots") are numbers (double; NaN = missing) or texts (a view
// plus a missing flag); each slot's kind is fixed when the program is built.
// The raw input columns' slots (PrepInput::slot) are filled by the caller;
// every op reads a slot already written and writes one or more new ones, in
// order, so a program is a straight line and every slot is written once. Each output feature is a number
// slot, cast to float32 at the end (the trees' own cast).
//
// Arithmetic is in double, one IEEE operation per step, in scikit-learn's
// order (no fused multiply-add: the file is compiled with -ffp-contract=off).
//
// Thread safety: immutable after the importer builds it; Run is const and may
// run on many threads at once, each with its own PrepRow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/float64_features.h"
#include "common/status.h"

namespace fb {

// A raw input column: found by name in the header (by_name), else by its
// 0-based position among the input's columns.
struct PrepInput {
  std::string name;
  int32_t position = 0;
  int32_t slot = 0;   // where the reader puts its value
  bool text = false;  // read as text (categories are strings); else as a number
};

// What counts as missing for an imputer or an indicator: NaN / a missing
// text (nan), else a number equal to `number` or a text equal to `text`.
struct PrepMissing {
  bool nan = true;
  double number = 0;
  std::string text;
};

// Categories of one encoded column. Lookup gives the category's position
// (0-based, scikit-learn's categories_ order) or -1 when unknown.
struct PrepCategories {
  bool text = false;
  std::unordered_map<std::string, int32_t> by_text;
  std::unordered_map<double, int32_t> by_number;  // keys with -0.0 stored as 0.0
  int32_t missing = -1;  // position of the missing (NaN) category, or -1: missing is unknown
  int32_t size = 0;

  int32_t Find(double v) const;
  int32_t Find(std::string_view t, bool is_missing) const;
};

enum class PrepOpKind : uint8_t {
  kImpute,     // dst = missing(src) ? fill : src   (number or text)
  kIndicator,  // dst = missing(src) ? 1 : 0
  kSubDiv,     // dst = (src - a) / b      (StandardScaler, RobustScaler, MaxAbsScaler: a = 0 or b = 1
               //                           when that half is off: both exact)
  kMul,        // dst = src * a            (the sparse scalers: X *= 1 / scale_)
  kMulAdd,     // dst = src * a + b, then clipped to [lo, hi] when clip (MinMaxScaler)
  kOneHot,     // dst .. dst + width - 1 = 0/1 per output (categories -> outputs)
  kOrdinal,    // dst = values[category] (OrdinalEncoder)
};

struct PrepOp {
  PrepOpKind kind = PrepOpKind::kSubDiv;
  int32_t src = 0;
  int32_t dst = 0;
  int32_t width = 1;  // kOneHot: outputs written
  double a = 0, b = 1, lo = 0, hi = 0;
  bool clip = false;
  PrepMissing missing;     // kImpute, kIndicator
  double fill_number = 0;  // kImpute on a number slot
  std::string fill_text;   // kImpute on a text slot
  int32_t table = -1;      // kOneHot, kOrdinal: index into Preprocessing::tables
  // kOneHot: per category position, the output offset (or -1: no output,
  // e.g. the dropped category). kOrdinal: per position, the value.
  std::vector<int32_t> outputs;
  std::vector<double> values;
  // Unknown categories: error (a message naming `what`), or kOneHot: the
  // output offset (-1: all zeros) / kOrdinal: `unknown_value`.
  bool unknown_is_error = true;
  int32_t unknown_output = -1;
  double unknown_value = 0;
  std::string what;  // e.g. "column 'city' (OneHotEncoder 'cat')", for errors
};

// One row's registers (reused between rows; one per thread).
struct PrepRow {
  std::vector<double> num;
  std::vector<std::string_view> text;
  std::vector<uint8_t> missing;    // text slots
  std::vector<std::string> owned;  // storage for input texts (SetText)

  // Fills raw input `i` (a text input in slot `slot`) with a copy of `t`.
  void SetText(int32_t i, int32_t slot, std::string_view t, bool is_missing) {
    owned[i].assign(t);
    text[slot] = owned[i];
    missing[slot] = is_missing;
  }
};

struct Preprocessing {
  std::vector<PrepInput> inputs;
  bool by_name = false;            // inputs found by name in a header (else by position)
  int32_t n_positions = 0;         // !by_name: the input's column count
  std::vector<uint8_t> slot_text;  // per slot: 1 text, 0 number
  std::vector<PrepOp> ops;
  std::vector<PrepCategories> tables;
  std::vector<int32_t> outputs;  // per feature: a number slot
  // Human-readable steps for `model inspect`, one line each.
  std::vector<std::string> steps;

  bool empty() const { return outputs.empty(); }
  int32_t n_slots() const { return static_cast<int32_t>(slot_text.size()); }

  // Slots, kinds, tables and outputs are consistent (the importer's program
  // is checked before use, as every forest is): InvalidData otherwise.
  Status Validate(int32_t n_features) const;

  // Sizes `row` for this program.
  void Prepare(PrepRow* row) const;
  // Runs the ops on `row` (raw inputs already filled) and writes the
  // n_features outputs as float32, or, when `float64` is not null (models
  // that compare float64 inputs: one entry per feature), each output's
  // Float64FeatureValue. InvalidData for an unknown category where the
  // encoder raises (message without a place: the caller adds it).
  Status Run(PrepRow* row, float* out, const std::vector<Float64Feature>* float64 = nullptr) const;
};

}  // namespace fb
