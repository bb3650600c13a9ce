// Predictor: computes the raw per-row sums of a Forest (see model/forest.h)
// for a block of rows; Finalize turns sums into predictions.
//
// Every predictor must give the same sums as ReferencePredictor, which is the
// oracle: double accumulation (float32 for Forest::float32_sums), trees in
// order. Fast engines are
// differential-tested against it.
//
// Thread safety: PredictRaw is const and may be called from many threads at
// once on one predictor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/forest.h"

namespace fb {

class Predictor {
 public:
  virtual ~Predictor() = default;
  // x: n_rows x forest.n_features float32, row-major. out: n_rows x
  // forest.n_outputs doubles, overwritten with the raw sums: the starting
  // values of InitAccumulators (the base margin of boosted models) plus
  // every tree's leaf, in tree order (no averaging, no link). NaN in x follows default_left; callers check
  // Forest::missing_values_supported first (FindMissing).
  virtual void PredictRaw(const float* x, size_t n_rows, double* out) const = 0;
  virtual std::string name() const = 0;

  // Label margins, for outputs that need a two-class forest's labels only
  // (PredictLabels below): LabelMarginBound() >= 0 when this predictor has
  // them. Then PredictLabelMargins writes one double per row, a cheaper
  // (float32) sum of the trees' class-1-minus-class-0 leaf differences; where
  // |d| > the bound, Finalize(PredictRaw) labels the row 1 if d > 0, else 0.
  // Rows it did not compute are NaN.
  virtual double LabelMarginBound() const { return -1; }
  virtual void PredictLabelMargins(const float* x, size_t n_rows, double* d) const;
};

// The simple, obviously-correct tree walker.
std::unique_ptr<Predictor> MakeReferencePredictor(std::shared_ptr<const Forest> forest);

// The fastest engine this machine supports for `forest` (runtime CPU
// dispatch), compiled from its trees; what training's evaluation uses.
// `predict`, `run` and `worker` use MakeModelPredictor below.
std::unique_ptr<Predictor> MakeBestPredictor(std::shared_ptr<const Forest> forest);

// MakeBestPredictor for a loaded model file: a .fbm's stored compiled layout
// (Forest::stored_layout) is checked and read in place instead of compiling
// again, when it is this build's (infer/compiled_io.h). An error names the
// file and section of a stored layout that does not hold.
Result<std::unique_ptr<Predictor>> MakeModelPredictor(std::shared_ptr<const Forest> forest);

// Returns the index of the first NaN in x (row-major, n_rows x n_features),
// or -1 if none.
int64_t FindMissing(const float* x, size_t n_rows, int32_t n_features);

enum class OutputKind : uint8_t {
  kPrediction,  // probabilities (classifiers) or values (regressors), link applied
  kMargin,      // before the link: mean, or base_margin + sum
};

// Final outputs for a block of rows.
struct Predictions {
  size_t n_rows = 0;
  int32_t n_cols = 0;          // classifiers: n_classes; regressors: n_outputs
  std::vector<double> values;  // n_rows x n_cols: probabilities, values or margins
  std::vector<int32_t> label;  // classifiers: index into class_labels (argmax, ties to the first)
};

// Turns raw sums (n_rows x n_outputs) into predictions. For a classifier the
// labels are always the argmax of the probabilities, whatever `kind` asks
// for in `values`.
void Finalize(const Forest& forest, const double* raw, size_t n_rows, OutputKind kind, Predictions* out);

// Scratch that PredictLabels reuses from call to call.
struct LabelScratch {
  std::vector<double> sums;  // margins, then the exact sums of the rows near a tie
  std::vector<float> rows;   // the rows near a tie
  std::vector<uint32_t> near;
  Predictions exact;
};

// out->label as Finalize(PredictRaw) gives it, for outputs that need nothing
// else (out->values may be left empty). With label margins, only rows
// within the bound of a tie are summed exactly; else every row is.
void PredictLabels(const Predictor& p, const Forest& forest, const float* x, size_t n_rows, LabelScratch* s,
                   Predictions* out);

}  // namespace fb
