// Float64Feature: how an input value, parsed as a correctly rounded double,
// becomes the float32 value that a forest's trees compare, for a model whose
// library compares float64 inputs with float64 thresholds (scikit-learn's
// HistGradientBoosting*: `x <= num_threshold` in double). float32 values and
// thresholds cannot reproduce those comparisons (two doubles on either side
// of a threshold can round to the same float), so the table readers hand the
// trees an exact stand-in instead of float(x):
//
//   - numeric feature: `cuts` holds every threshold the trees compare the
//     feature with, ascending and distinct (never NaN; +inf may appear). A
//     value v becomes j = the number of cuts strictly below v (an integer
//     below 2^24, exact as a float), and a node whose threshold is cuts[i]
//     compares with i instead: for every double v,
//         v <= cuts[i]  <=>  j <= i.
//     NaN stays NaN (the node's missing side).
//   - categorical feature (scikit-learn's native categorical splits): NaN and
//     negative values are missing (NaN); any other value has the category
//     scikit-learn's compiled predictor gives it (`<uint8_t>v` in Cython; on
//     x86-64 that is a 32-bit truncation keeping the low byte, so 259.5 is
//     category 3 and every v >= 2^31, +inf included, is category 0); a
//     category outside `known` (the categories seen in training) is missing
//     too, and a known one becomes that integer as a float.
//
// Thread safety: plain values; Apply is a pure function.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace fb {

struct Float64Feature {
  bool categorical = false;
  std::vector<double> cuts;    // numeric: ascending, distinct, fewer than 2^24
  std::vector<int32_t> known;  // categorical: ascending, distinct, in [0, 256)
};

// scikit-learn's `<uint8>v` for a double v >= 0 (see the file comment).
inline int32_t SklearnCategory(double v) {
  if (!(v < 2147483648.0)) return 0;
  return static_cast<int32_t>(v) & 0xFF;
}

// The float the trees compare for input value `v` of a feature described by
// `f` (see the file comment).
inline float Float64FeatureValue(const Float64Feature& f, double v) {
  constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  if (std::isnan(v)) return kMissing;
  if (f.categorical) {
    if (v < 0.0) return kMissing;
    const int32_t c = SklearnCategory(v);
    return std::binary_search(f.known.begin(), f.known.end(), c) ? static_cast<float>(c) : kMissing;
  }
  return static_cast<float>(std::lower_bound(f.cuts.begin(), f.cuts.end(), v) - f.cuts.begin());
}

}  // namespace fb
