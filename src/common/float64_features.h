// Float64Feature: how an input value, parsed as a correctly rounded double,
// becomes the float32 value that a forest's trees compare, for a model whose
// library compares float64 inputs with float64 thresholds (scikit-learn's
// HistGradientBoosting*: `x <= num_threshold` in double; LightGBM, below). float32 values and
// thresholds cannot reproduce those comparisons (two doubles on either side
// of a threshold can round to the same float), so the table readers hand the
// trees an exact stand-in instead of float(x):
//
// scikit-learn (`lightgbm` false):
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
// LightGBM (`lightgbm` set; include/LightGBM/tree.h NumericalDecision and
// CategoricalDecision, compared in double; its parsers read every |v| <=
// kZeroThreshold = (double)1e-35f as 0, src/io/parser.hpp):
//   - numeric feature: a value v in the zero band becomes 0; any other value
//     becomes a signed rank that keeps 0 for the zero band alone:
//         m(v) = j(v) - z + (v > 0 ? 1 : -1),
//     j(v) as above (cuts strictly below v), z = below_zero (cuts below 0).
//     A node whose threshold is t compares with
//         T(t) = j(t) - z + (t >= 0 ? 1 : -1)   (LightgbmThreshold),
//     and for every double v (after the band's zeroing): v <= t <=> m(v) <=
//     T(t). (t >= 0: a positive v has m(v) - 1 = the number of cuts in
//     [0, v), at most that in [0, t) = T(t) - 1 exactly when v <= t; 0 and
//     negative v have m(v) <= 0 < T(t). t < 0: a negative v has -m(v) - 1 =
//     the number of cuts in [v, 0), at least that in [t, 0) = -T(t) - 1
//     exactly when v <= t; 0 and positive v have m(v) >= 0 > T(t).) Only
//     the zero band maps to 0, so a node's zero-as-missing test (the band
//     around 0, model/forest.h) sees exactly LightGBM's zeros. NaN stays NaN.
//     With `zero_is_missing` (every node on the feature sends 0 where it
//     sends NaN: missing types None and Zero, or NaN with 0's side as the
//     default) the zero band becomes NaN instead, and no node needs the
//     zero-as-missing test.
//   - categorical feature: LightGBM's category is static_cast<int>(v)
//     (truncation: -1 < v < 1 is 0; v >= 2^31 is INT_MIN on x86-64, as are
//     NaN and -inf): a value whose int is in [0, 2^24) becomes that integer
//     as a float, any other (negative, or beyond every category a model can
//     list) becomes -1, which is in no category list. NaN stays NaN (the
//     node's default side, LightGBM's right). `known` is empty.
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
  std::vector<double> cuts;      // numeric: ascending, distinct, fewer than 2^24 - 1
  std::vector<int32_t> known;    // scikit-learn categorical: ascending, distinct, in [0, 256)
  bool lightgbm = false;         // LightGBM's rules instead of scikit-learn's
  int32_t below_zero = 0;        // LightGBM numeric: the number of cuts below 0 (CutsBelowZero)
  bool zero_is_missing = false;  // LightGBM numeric: the zero band becomes NaN, not 0
};

// LightGBM's kZeroThreshold (include/LightGBM/meta.h: `const double
// kZeroThreshold = 1e-35f;`, a float literal).
inline constexpr double kLightgbmZero = 1e-35f;

inline int32_t CutsBelowZero(const std::vector<double>& cuts) {
  return static_cast<int32_t>(std::lower_bound(cuts.begin(), cuts.end(), 0.0) - cuts.begin());
}

// T(t) of the file comment: the float a LightGBM numeric node whose double
// threshold `t` (one of f.cuts) compares the mapped values with.
inline float LightgbmThreshold(const Float64Feature& f, double t) {
  const auto j = std::lower_bound(f.cuts.begin(), f.cuts.end(), t) - f.cuts.begin();
  return static_cast<float>(j - f.below_zero + (t >= 0.0 ? 1 : -1));
}

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
  if (f.lightgbm) {
    if (f.categorical)
      return v > -1.0 && v < 16777216.0 ? static_cast<float>(static_cast<int32_t>(v)) : -1.0f;
    if (v >= -kLightgbmZero && v <= kLightgbmZero) return f.zero_is_missing ? kMissing : 0.0f;
    const auto j = std::lower_bound(f.cuts.begin(), f.cuts.end(), v) - f.cuts.begin();
    return static_cast<float>(j - f.below_zero + (v > 0.0 ? 1 : -1));
  }
  if (f.categorical) {
    if (v < 0.0) return kMissing;
    const int32_t c = SklearnCategory(v);
    return std::binary_search(f.known.begin(), f.known.end(), c) ? static_cast<float>(c) : kMissing;
  }
  return static_cast<float>(std::lower_bound(f.cuts.begin(), f.cuts.end(), v) - f.cuts.begin());
}

}  // namespace fb
