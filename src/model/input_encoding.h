// InputEncoder: applies a Forest's InputEncoding (model/forest.h) to raw CSV
// fields, turning one raw row into the model's float32 features.
//
// Numeric fields are parsed as float (fast_float); an empty field or one of
// the missing-value tokens (IsMissingToken) gives NaN. Categorical fields are
// matched exactly (after trimming spaces) against the training categories:
// a match sets that indicator to 1, anything else (missing, unseen) leaves
// all of the column's indicators 0, as pandas get_dummies does for NaN.
//
// Thread safety: immutable after Make; EncodeRow is const and may run on many
// threads at once.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

// True when the trimmed field is a missing value: one of pandas' default NA
// spellings (common/missing_values.h), the same list the CSV reader of
// predict/run uses, so training and prediction agree on what is missing.
bool IsMissingToken(std::string_view field);

// Trims ASCII white space (space, tab, CR, LF, VT, FF) at both ends, as the
// CSV reader of predict/run does.
std::string_view TrimField(std::string_view field);

// Parses a whole field as a number ("1", "-2.5e3", "inf"); false if it is not
// one. Missing tokens are not numbers.
bool ParseNumber(std::string_view field, float* out);

class InputEncoder {
 public:
  // Maps each encoding column to its position in `header` (the raw input's
  // column names; extra columns are ignored). NotFound-like InvalidData
  // naming the first missing column otherwise. `encoding` must be non-empty
  // and already validated (BuildForest).
  static Result<InputEncoder> Make(const InputEncoding& encoding, int32_t n_features,
                                   const std::vector<std::string>& header);

  int32_t n_features() const { return n_features_; }
  // Number of raw fields a row must have (the header's size).
  size_t n_fields() const { return n_fields_; }

  // fields: one raw row (n_fields() fields). out: n_features() floats.
  // InvalidData (with the 1-based column set) if a numeric column holds a
  // non-number.
  Status EncodeRow(const std::vector<std::string_view>& fields, float* out) const;

 private:
  struct Column {
    size_t field = 0;  // index into the raw row
    int32_t first_feature = 0;
    int32_t width = 1;
    bool categorical = false;
    std::unordered_map<std::string, int32_t> index;  // category -> offset
    std::string name;
  };
  std::vector<Column> columns_;
  int32_t n_features_ = 0;
  size_t n_fields_ = 0;
};

}  // namespace fb
