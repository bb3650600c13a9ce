#include <cmath>

#include "infer/predictor.h"
#include "model/forest_builder.h"

namespace fb {
namespace {

class ReferencePredictor final : public Predictor {
 public:
  explicit ReferencePredictor(std::shared_ptr<const Forest> f) : f_(std::move(f)) {}

  void PredictRaw(const float* x, size_t n_rows, double* out) const override {
    const Forest& f = *f_;
    const size_t w = f.leaf_width;
    const bool f32 = f.float32_sums;
    for (size_t r = 0; r < n_rows; ++r) {
      const float* row = x + r * f.n_features;
      double* acc = out + r * f.n_outputs;
      InitAccumulators(f, acc);
      for (const Tree& t : f.trees) {
        int32_t i = FindLeaf(f, t, row);
        const double* v = &t.values[static_cast<size_t>(i) * w];
        if (w == 1) {
          acc[t.output] = AddToSum(f32, acc[t.output], v[0]);
        } else {
          for (size_t k = 0; k < w; ++k) acc[k] = AddToSum(f32, acc[k], v[k]);
        }
      }
    }
  }

  std::string name() const override { return "reference"; }

 private:
  std::shared_ptr<const Forest> f_;
};

}  // namespace

std::unique_ptr<Predictor> MakeReferencePredictor(std::shared_ptr<const Forest> forest) {
  // It walks the nodes: undecoded trees (ModelLoad::kTreesOnDemand) are decoded first.
  return std::make_unique<ReferencePredictor>(DecodedForestOrAbort(std::move(forest)));
}

int64_t FindMissing(const float* x, size_t n_rows, int32_t n_features) {
  size_t n = n_rows * static_cast<size_t>(n_features);
  for (size_t i = 0; i < n; ++i)
    if (std::isnan(x[i])) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace fb
