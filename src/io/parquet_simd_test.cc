// The Parquet reader's kernel sets (io/parquet_simd.h): every set this CPU
// supports against a plain reference, on random layouts and bit streams.
#include "io/parquet_simd.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

namespace fb {
namespace {

TEST(ParquetSimd, EverySupportedSetIsTheOneAskedFor) {
  for (SimdTarget t : SupportedSimdTargets()) EXPECT_EQ(ParquetKernelsFor(t).target, t) << SimdTargetName(t);
  EXPECT_TRUE(SimdTargetSupported(ChosenParquetKernels().target));
}

// Runs of consecutive features over slots: slot j holds feature perm[j].
std::vector<TransposeRun> RunsOf(const std::vector<int32_t>& perm) {
  std::vector<TransposeRun> runs;
  for (size_t j = 0; j < perm.size();) {
    uint32_t w = 1;
    while (w < 16 && j + w < perm.size() && perm[j + w] == perm[j] + static_cast<int32_t>(w)) ++w;
    runs.push_back(TransposeRun{static_cast<uint32_t>(j), perm[j], w});
    j += w;
  }
  return runs;
}

TEST(ParquetSimd, TransposeWritesEveryRowOfEveryRunAndNothingElse) {
  std::mt19937 rng(7);
  for (SimdTarget t : SupportedSimdTargets()) {
    const ParquetKernels& k = ParquetKernelsFor(t);
    for (int trial = 0; trial < 300; ++trial) {
      // The block's features: nf of them, some not in any run (left alone).
      const size_t nf = 1 + rng() % 70;
      std::vector<int32_t> features(nf);
      std::iota(features.begin(), features.end(), 0);
      // Mostly in order (long runs, as a file's columns usually are), else shuffled pieces.
      if (trial % 3 == 1) std::shuffle(features.begin(), features.end(), rng);
      if (trial % 3 == 2)
        for (size_t i = 0; i + 1 < nf; i += 1 + rng() % 20) std::swap(features[i], features[i + 1]);
      const size_t slots = trial % 5 == 0 ? nf - rng() % nf : nf;
      features.resize(slots);
      const std::vector<TransposeRun> runs = RunsOf(features);
      const size_t n = rng() % 70, after = rng() % 40, stride = n + 3;
      std::vector<float> cols_data(slots * stride);
      for (float& v : cols_data) v = static_cast<float>(rng() % 100000) - 50000.0f;
      std::vector<const float*> cols(slots);
      for (size_t j = 0; j < slots; ++j) cols[j] = cols_data.data() + j * stride;
      std::vector<float> out((n + after) * nf, -1.5f), want = out;
      for (size_t r = 0; r < n; ++r)
        for (size_t j = 0; j < slots; ++j) want[r * nf + features[j]] = cols[j][r];
      k.transpose(cols.data(), runs.data(), runs.size(), n, out.data(), nf, after);
      ASSERT_EQ(out, want) << SimdTargetName(t) << " trial " << trial << " nf " << nf << " slots " << slots
                           << " rows " << n;
    }
  }
}

// Index j of group g of a bit-packed run: bits (8 g + j) bw on, LSB first.
uint32_t IndexAt(const std::vector<uint8_t>& bytes, int bw, size_t i) {
  uint32_t v = 0;
  for (int b = 0; b < bw; ++b) {
    const size_t bit = i * bw + b;
    v |= static_cast<uint32_t>((bytes[bit / 8] >> (bit % 8)) & 1) << b;
  }
  return v;
}

TEST(ParquetSimd, UnpackLookupGivesEveryIndexsValueAndFindsIndicesPastTheDictionary) {
  std::mt19937 rng(11);
  std::vector<float> dict(256);
  for (size_t i = 0; i < dict.size(); ++i) dict[i] = static_cast<float>(i) * 1.25f - 7.0f;
  for (SimdTarget t : SupportedSimdTargets()) {
    const ParquetKernels& k = ParquetKernelsFor(t);
    for (int bw = 1; bw <= 8; ++bw) {
      for (int trial = 0; trial < 200; ++trial) {
        const size_t groups = rng() % 12;
        std::vector<uint8_t> bytes(groups * bw + 8);
        // Small values often (runs of one dictionary entry), else any.
        const uint32_t top = trial % 2 ? (1u << bw) : 1 + rng() % (1u << bw);
        for (size_t i = 0; i < groups * 8; ++i) {
          const uint32_t v = static_cast<uint32_t>(rng() % top);
          for (int b = 0; b < bw; ++b)
            if ((v >> b) & 1) bytes[(i * bw + b) / 8] |= static_cast<uint8_t>(1u << ((i * bw + b) % 8));
        }
        for (size_t i = groups * bw; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(rng());
        // Any limit from 0 to past 2^bw (no check there).
        const uint32_t limit = trial % 4 == 0 ? 256 : static_cast<uint32_t>(rng() % ((1u << bw) + 2));
        uint32_t max_index = 0;
        std::vector<float> want(groups * 8);
        for (size_t i = 0; i < groups * 8; ++i) {
          const uint32_t ix = IndexAt(bytes, bw, i);
          max_index = std::max(max_index, ix);
          want[i] = dict[ix];
        }
        const bool want_bad = groups > 0 && limit < (1u << bw) && max_index >= limit;
        std::vector<float> out(groups * 8, -99.0f);
        const bool bad = k.unpack_lookup(bw, bytes.data(), groups, dict.data(), out.data(), limit);
        ASSERT_EQ(bad, want_bad) << SimdTargetName(t) << " bw " << bw << " trial " << trial << " limit "
                                 << limit;
        if (!bad) {
          ASSERT_EQ(out, want) << SimdTargetName(t) << " bw " << bw << " trial " << trial;
        }
      }
    }
  }
}

}  // namespace
}  // namespace fb
