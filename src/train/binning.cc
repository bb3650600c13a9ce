#include "train/binning.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <thread>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/bit_count.h"
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

// BinOf without branches on the data: the cuts padded with +inf to 256
// entries, in 16 blocks of 16; the answer (the number of cuts below v, which
// is lower_bound's index) is 16 x the blocks whose last cut is below v, plus
// the cuts below v in the next block. Both counts are 16 independent
// comparisons: four SSE2 compares and a mask (a plain loop without SSE2).
struct FastBinner {
  alignas(64) float cut[256];
  alignas(64) float fence[16];  // the last cut of each block
  uint8_t missing = 0;

  explicit FastBinner(const FeatureBins& fb) {
    std::fill(cut, cut + 256, std::numeric_limits<float>::infinity());
    std::copy(fb.thresholds.begin(), fb.thresholds.end(), cut);
    for (int j = 0; j < 16; ++j) fence[j] = cut[16 * j + 15];
    missing = static_cast<uint8_t>(fb.missing_bin());
  }
  uint8_t operator()(float v) const {
    if (std::isnan(v)) return missing;
    // cut[255] is +inf (at most 254 cuts), so blocks < 16.
    const uint32_t blocks = Below16(fence, v);
    return static_cast<uint8_t>(16 * blocks + Below16(cut + 16 * blocks, v));
  }
  // How many of the 16 floats at c (64-byte aligned) are < v.
  static uint32_t Below16(const float* c, float v) {
#if defined(__SSE2__)
    const __m128 x = _mm_set1_ps(v);
    const int m = _mm_movemask_ps(_mm_cmplt_ps(_mm_load_ps(c), x)) |
                  _mm_movemask_ps(_mm_cmplt_ps(_mm_load_ps(c + 4), x)) << 4 |
                  _mm_movemask_ps(_mm_cmplt_ps(_mm_load_ps(c + 8), x)) << 8 |
                  _mm_movemask_ps(_mm_cmplt_ps(_mm_load_ps(c + 12), x)) << 12;
    return BitCount(static_cast<uint32_t>(m));
#else
    uint32_t n = 0;
    for (int j = 0; j < 16; ++j) n += c[j] < v;
    return n;
#endif
  }
};

// Sorts floats (no NaN) ascending: an LSD radix sort on their order-keeping
// integer keys, three passes of 11 bits (several times std::sort's speed on
// the 200,000-value samples). -0.0 sorts before +0.0; they compare equal, so
// MakeBins sees one distinct value either way.
void SortFloats(std::vector<float>* values) {
  const size_t n = values->size();
  std::vector<uint32_t> a(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, &(*values)[i], 4);
    a[i] = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  }
  for (int shift = 0; shift < 33; shift += 11) {
    size_t count[2049] = {0};
    for (uint32_t k : a) ++count[((k >> shift) & 0x7FF) + 1];
    for (int d = 0; d < 2048; ++d) count[d + 1] += count[d];
    for (uint32_t k : a) b[count[(k >> shift) & 0x7FF]++] = k;
    a.swap(b);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = a[i];
    const uint32_t u = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
    std::memcpy(&(*values)[i], &u, 4);
  }
}

FeatureBins MakeBins(std::vector<float> v, int max_bins) {
  FeatureBins fb;
  SortFloats(&v);
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
  const int32_t nf = data.n_features;
  BinnedData out;
  out.n_rows = n;
  out.n_features = nf;
  out.features.resize(nf);
  out.bins.resize(static_cast<size_t>(nf) * n);
  threads = std::max(1, threads);
  auto run = [threads](int64_t items, const std::function<void(int64_t)>& fn) {
    std::atomic<int64_t> next{0};
    auto work = [&] {
      for (int64_t i; (i = next.fetch_add(1)) < items;) fn(i);
    };
    std::vector<std::thread> pool;
    for (int64_t t = 1; t < std::min<int64_t>(threads, items); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  };
  // Cuts, feature by feature.
  run(nf, [&](int64_t f) {
    const float* col = data.x.data() + static_cast<size_t>(f) * data.n_rows;
    std::vector<float> vals;
    vals.reserve(sample.size());
    for (int64_t r : sample)
      if (!std::isnan(col[r])) vals.push_back(col[r]);
    out.features[f] = MakeBins(std::move(vals), max_bins);
  });
  // Bins, block of rows by block of rows (each block's bytes are one
  // thread's, so threads never write the same cache line).
  std::vector<FastBinner> binners;
  binners.reserve(nf);
  for (const FeatureBins& fb : out.features) binners.emplace_back(fb);
  // Blocks of 256 rows keep the block's output (256 x features bytes) in
  // cache while it is written feature by feature.
  constexpr int64_t kBlock = 8192, kSub = 256;
  run((n + kBlock - 1) / kBlock, [&](int64_t block) {
    const int64_t b = block * kBlock, e = std::min(n, b + kBlock);
    for (int64_t sb = b; sb < e; sb += kSub) {
      const int64_t se = std::min(e, sb + kSub);
      for (int32_t f = 0; f < nf; ++f) {
        const float* col = data.x.data() + static_cast<size_t>(f) * data.n_rows;
        const FastBinner& binner = binners[f];
        uint8_t* dst = out.bins.data() + f;
        for (int64_t i = sb; i < se; ++i) dst[static_cast<size_t>(i) * nf] = binner(col[(*rows)[i]]);
      }
    }
  });
  return out;
}

}  // namespace fb::train
