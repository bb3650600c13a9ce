#include <cmath>

#include "infer/predictor.h"

namespace fb {
namespace {

class ReferencePredictor final : public Predictor {
 public:
  explicit ReferencePredictor(std::shared_ptr<const Forest> f) : f_(std::move(f)) {}

  void PredictRaw(const float* x, size_t n_rows, double* out) const override {
    const Forest& f = *f_;
    const size_t w = f.leaf_width;
    for (size_t r = 0; r < n_rows; ++r) {
      const float* row = x + r * f.n_features;
      double* acc = out + r * f.n_outputs;
      for (int32_t k = 0; k < f.n_outputs; ++k) acc[k] = 0.0;
      for (const Tree& t : f.trees) {
        int32_t i = Leaf(f, t, row);
        const double* v = &t.values[static_cast<size_t>(i) * w];
        if (w == 1) {
          acc[t.output] += v[0];
        } else {
          for (size_t k = 0; k < w; ++k) acc[k] += v[k];
        }
      }
    }
  }

  std::string name() const override { return "reference"; }

 private:
  static bool InCategories(const Forest& f, const Node& nd, float v) {
    // As XGBoost: negative values and values >= 2^24 are in no list; others
    // are truncated toward zero (1.5 is category 1). See model/forest.h.
    if (!(v >= 0.0f) || v >= 16777216.0f) return false;
    auto c = static_cast<int32_t>(v);
    for (uint32_t j = 0; j < nd.cat_count; ++j)
      if (f.categories[nd.cat_begin + j] == c) return true;
    return false;
  }

  static int32_t Leaf(const Forest& f, const Tree& t, const float* row) {
    int32_t i = 0;
    while (!t.nodes[i].is_leaf()) {
      const Node& nd = t.nodes[i];
      float v = row[nd.feature];
      bool left;
      if (std::isnan(v)) {
        left = nd.default_left;
      } else if (nd.categorical) {
        left = !InCategories(f, nd, v);
      } else {
        left = v <= nd.threshold;
      }
      i = left ? nd.left : nd.right;
    }
    return i;
  }

  std::shared_ptr<const Forest> f_;
};

}  // namespace

std::unique_ptr<Predictor> MakeReferencePredictor(std::shared_ptr<const Forest> forest) {
  return std::make_unique<ReferencePredictor>(std::move(forest));
}

int64_t FindMissing(const float* x, size_t n_rows, int32_t n_features) {
  size_t n = n_rows * static_cast<size_t>(n_features);
  for (size_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace fb
