// The differential check the model fuzz targets run on every forest their
// loader accepts: rows made of the forest's own thresholds (and their
// neighbours, NaN, infinities; chosen by the fuzz input's bytes) are
// predicted by the reference predictor and by every compiled engine on every
// SIMD target this CPU runs, which must agree bit for bit.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "infer/compiled_predictor.h"
#include "infer/predictor.h"
#include "common/simd.h"
#include "model/forest.h"

namespace fb::fuzz {

// Rows of small integers, NaN and infinities (from the fuzz input's bytes)
// through `p`: for predictors whose sums are not compared (a stored layout).
inline void PredictSome(const Predictor& p, const Forest& forest, const uint8_t* data, size_t size) {
  if (forest.n_features > 4096 || forest.n_outputs > 4096 || size == 0) return;
  const size_t nf = static_cast<size_t>(forest.n_features);
  for (size_t rows : {size_t{3}, size_t{150}}) {
    std::vector<float> x(rows * nf);
    for (size_t i = 0; i < x.size(); ++i) {
      const uint8_t v = data[(i * 7) % size];
      x[i] = v == 255   ? std::numeric_limits<float>::quiet_NaN()
             : v == 254 ? std::numeric_limits<float>::infinity()
                        : static_cast<float>(v % 16) - 4.0f;
    }
    std::vector<double> out(rows * static_cast<size_t>(forest.n_outputs));
    p.PredictRaw(x.data(), rows, out.data());
  }
}

inline void CheckEnginesAgree(const std::shared_ptr<const Forest>& forest, const uint8_t* data, size_t size) {
  // Small models only: predicting on a huge accepted forest is slow, not wrong.
  size_t nodes = 0;
  for (const Tree& t : forest->trees) nodes += t.nodes.size();
  if (forest->n_features > 4096 || forest->n_outputs > 4096 || nodes > 100000 || size == 0) return;
  // Besides the thresholds: zero, the edges of LightGBM's zero band, and a
  // fraction that truncates to category 0.
  std::vector<float> thresholds{0.5f, 0.0f, -0.0f, kZeroBand, -kZeroBand, 1e-36f, -0.5f};
  for (const Tree& t : forest->trees) {
    for (const Node& n : t.nodes) {
      if (n.is_leaf()) {
        continue;
      } else if (!n.categorical) {
        thresholds.push_back(n.threshold);
      } else {
        for (uint32_t k = 0; k < n.cat_count && k < 4; ++k)
          thresholds.push_back(static_cast<float>(forest->categories[n.cat_begin + k]));
      }
    }
  }
  // 70 rows: a 64-row tile and a tail.
  const size_t nf = static_cast<size_t>(forest->n_features), rows = 70;
  std::vector<float> x(rows * nf);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < x.size(); ++i) {
    h = (h ^ data[i % size]) * 16777619u + static_cast<uint32_t>(i);
    float v = thresholds[(h >> 8) % thresholds.size()];
    switch (h % 8) {
      case 0: v = std::nextafter(v, std::numeric_limits<float>::infinity()); break;
      case 1: v = std::nextafter(v, -std::numeric_limits<float>::infinity()); break;
      case 2: v = std::numeric_limits<float>::quiet_NaN(); break;
      case 3:
        v = (h & 16) ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
        break;
      default: break;
    }
    x[i] = v;
  }
  const size_t no = static_cast<size_t>(forest->n_outputs);
  std::vector<double> want(rows * no), got(rows * no);
  MakeReferencePredictor(forest)->PredictRaw(x.data(), rows, want.data());
  for (SimdTarget target : SupportedSimdTargets()) {
    MakeCompiledPredictor(forest, target)->PredictRaw(x.data(), rows, got.data());
    if (std::memcmp(got.data(), want.data(), got.size() * sizeof(double)) != 0) __builtin_trap();
  }
}

}  // namespace fb::fuzz
