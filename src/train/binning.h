// Histogram binning: each feature's values mapped to at most 255 ordered bins
// (uint8), plus one bin for missing values, so split finding scans bins
// instead of sorting rows.
//
// A feature with at most max_bins distinct values (in the rows used to build
// the bins) gets one bin per value, so every split scikit-learn could make
// is available; otherwise cuts are placed at quantiles of the values. The
// cut after bin b is thresholds[b], a float32 chosen so that every training
// value of bins <= b is <= it and every value of higher bins is > it: the
// midpoint of the neighbouring values (as scikit-learn), rounded toward -inf
// in float32. So the Forest's rule `x <= threshold` reproduces the split.
//
// Thread safety: immutable after BinFeatures.
#pragma once

#include <cstdint>
#include <vector>

#include "train/training_data.h"

namespace fb::train {

struct FeatureBins {
  std::vector<float> thresholds;  // n_bins - 1 ascending cuts
  std::vector<float> bin_min;     // smallest sampled value of each bin
  std::vector<float> bin_max;     // largest sampled value of each bin
  int32_t n_bins = 1;             // value bins; bin n_bins holds missing values

  int32_t missing_bin() const { return n_bins; }
};

// Row-major, so that a tree node's histograms of several features are built
// in one pass over its rows, one row's bins at a time (one cache line for up
// to 64 features) instead of one scattered read per row and feature.
struct BinnedData {
  int64_t n_rows = 0;  // rows of the subset binned
  int32_t n_features = 0;
  std::vector<FeatureBins> features;
  std::vector<uint8_t> bins;  // row-major: bins[i * n_features + f] for subset row i

  const uint8_t* row(int64_t i) const { return bins.data() + static_cast<size_t>(i) * n_features; }
  uint8_t at(int64_t i, int32_t f) const { return row(i)[f]; }
};

// Bins rows `rows` of `data` (all rows when empty). max_bins in [2, 255].
// Cuts are computed from at most `sample_rows` rows (a seeded, deterministic
// sample) when there are more; `threads` compute cuts feature by feature,
// then bin blocks of rows, in parallel (the result does not depend on it).
BinnedData BinFeatures(const TrainingData& data, const std::vector<int64_t>& rows, int max_bins, int threads,
                       uint64_t seed, int64_t sample_rows = 200000);

// Bin of value v (NaN -> missing bin).
uint8_t BinOf(const FeatureBins& fb, float v);

}  // namespace fb::train
