#include "train/binning.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include "model/forest_builder.h"
#include "train/rng.h"

namespace fb::train {

uint8_t BinOf(const FeatureBins& fb, float v) {
  if (std::isnan(v)) return static_cast<uint8_t>(fb.missing_bin());
  // First cut >= v: values equal to a cut belong to the bin left of it.
  return static_cast<uint8_t>(std::lower_bound(fb.thresholds.begin(), fb.thresholds.end(), v) -
                              fb.thresholds.begin());
}

namespace {

FeatureBins MakeBins(std::vector<float> v, int max_bins) {
  FeatureBins fb;
  std::sort(v.begin(), v.end());
  // Distinct values and their counts.
  std::vector<float> distinct;
  std::vector<int64_t> count;
  for (float x : v) {
    if (!distinct.empty() && distinct.back() == x) {
      ++count.back();
    } else {
      distinct.push_back(x);
      count.push_back(1);
    }
  }
  if (distinct.empty()) {
    fb.bin_min = fb.bin_max = {0.0f};
    return fb;
  }
  auto cut_after = [&](size_t i) {
    // Midpoint of distinct[i] and distinct[i + 1], then the largest float32
    // at or below it: >= distinct[i] (a float32) and < distinct[i + 1].
    double mid = (static_cast<double>(distinct[i]) + static_cast<double>(distinct[i + 1])) / 2.0;
    float t = Float32AtOrBelow(mid);
    if (std::isinf(t) || !(t < distinct[i + 1])) t = distinct[i];  // e.g. huge or -inf neighbours
    fb.thresholds.push_back(t);
  };
  std::vector<size_t> last_of_bin;  // index in `distinct` of each bin's last value
  if (distinct.size() <= static_cast<size_t>(max_bins)) {
    for (size_t i = 0; i < distinct.size(); ++i) last_of_bin.push_back(i);
  } else {
    // Greedy quantiles: close a bin once it reaches the remaining mass /
    // remaining bins, so heavy values get their own bins and the rest spread.
    int64_t remaining = static_cast<int64_t>(v.size());  // mass of the open bin and all after it
    int bins_left = max_bins;                            // including the open bin
    int64_t in_bin = 0;
    for (size_t i = 0; i < distinct.size(); ++i) {
      in_bin += count[i];
      const size_t distinct_left = distinct.size() - i - 1;
      const bool last = distinct_left == 0;
      const bool full = in_bin >= static_cast<double>(remaining) / bins_left;
      if (last || (bins_left > 1 && full)) {
        last_of_bin.push_back(i);
        remaining -= in_bin;
        in_bin = 0;
        --bins_left;
      }
    }
  }
  size_t first = 0;
  for (size_t b = 0; b < last_of_bin.size(); ++b) {
    fb.bin_min.push_back(distinct[first]);
    fb.bin_max.push_back(distinct[last_of_bin[b]]);
    if (b + 1 < last_of_bin.size()) cut_after(last_of_bin[b]);
    first = last_of_bin[b] + 1;
  }
  fb.n_bins = static_cast<int32_t>(last_of_bin.size());
  return fb;
}

}  // namespace

BinnedData BinFeatures(const TrainingData& data, const std::vector<int64_t>& rows_in, int max_bins,
                       int threads, uint64_t seed, int64_t sample_rows) {
  max_bins = std::clamp(max_bins, 2, 255);
  std::vector<int64_t> all;
  const std::vector<int64_t>* rows = &rows_in;
  if (rows_in.empty()) {
    all.resize(data.n_rows);
    for (int64_t i = 0; i < data.n_rows; ++i) all[i] = i;
    rows = &all;
  }
  const int64_t n = static_cast<int64_t>(rows->size());
  // The rows the cuts are computed from: all, or a seeded sample.
  std::vector<int64_t> sample;
  if (n > sample_rows) {
    Rng rng = Rng::ForStream(seed, 0xB1B5);
    std::vector<int64_t> pos(n);
    for (int64_t i = 0; i < n; ++i) pos[i] = i;
    for (int64_t i = 0; i < sample_rows; ++i) std::swap(pos[i], pos[i + rng.Below(n - i)]);
    pos.resize(sample_rows);
    std::sort(pos.begin(), pos.end());
    for (int64_t p : pos) sample.push_back((*rows)[p]);
  } else {
    sample = *rows;
  }
  BinnedData out;
  out.n_rows = n;
  out.features.resize(data.n_features);
  out.bins.resize(static_cast<size_t>(data.n_features) * n);
  std::atomic<int32_t> next{0};
  auto work = [&] {
    std::vector<float> vals;
    for (int32_t f; (f = next.fetch_add(1)) < data.n_features;) {
      const float* col = data.x.data() + static_cast<size_t>(f) * data.n_rows;
      vals.clear();
      for (int64_t r : sample)
        if (!std::isnan(col[r])) vals.push_back(col[r]);
      out.features[f] = MakeBins(vals, max_bins);
      uint8_t* dst = out.bins.data() + static_cast<size_t>(f) * n;
      const FeatureBins& fb = out.features[f];
      for (int64_t i = 0; i < n; ++i) dst[i] = BinOf(fb, col[(*rows)[i]]);
    }
  };
  threads = std::max(1, std::min<int>(threads, data.n_features));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

}  // namespace fb::train
