#include "infer/compiled_predictor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "infer/bitvector_kernels.h"
#include "infer/compiled_forest.h"
#include "infer/compiled_io.h"
#include "infer/complete_kernels.h"
#include "model/forest_builder.h"

namespace fb {
namespace {

// Rows walked in lockstep through a deep tree (independent cache misses in
// flight).
constexpr size_t kDeepGroup = 16;
// Fewer rows than this skip the complete and bitvector tiles: they walk the
// Forest's nodes instead, when they are decoded (a forest loaded with
// ModelLoad::kTreesOnDemand has none: its few rows go through the kernels
// on a padded tile, the same sums).
constexpr size_t kMinTileRows = 8;

// Copies m <= kTileRows rows into a column-major tile, zero-padding the rest;
// returns whether any value is NaN.
bool Transpose(const float* x, size_t m, size_t nf, float* tile) {
  bool nan = false;
  for (size_t r = 0; r < m; ++r) {
    const float* row = x + r * nf;
    for (size_t f = 0; f < nf; ++f) {
      tile[f * kTileRows + r] = row[f];
      nan |= std::isnan(row[f]);
    }
  }
  if (m < kTileRows)
    for (size_t f = 0; f < nf; ++f) std::fill(tile + f * kTileRows + m, tile + (f + 1) * kTileRows, 0.0f);
  return nan;
}

// Branch-free: which child a row takes is data, never a branch (a
// mispredicted branch per step would cost more than the step).
template <size_t G>
void WalkDeep(const DeepNode* nodes, const float* const* rows, uint32_t* idx) {
  for (size_t j = 0; j < G; ++j) idx[j] = 0;
  for (;;) {
    uint32_t moved = 0;
#pragma GCC unroll 16
    for (size_t j = 0; j < G; ++j) {
      const DeepNode nd = nodes[idx[j]];
      const float v = rows[j][(nd.bits >> 1) & (kDeepMaxFeatures - 1)];
      const uint32_t left =
          static_cast<uint32_t>(v <= nd.threshold) | (static_cast<uint32_t>(std::isnan(v)) & nd.bits);
      const uint32_t mask = 0u - (left & 1u);
      const uint32_t step = (1u & mask) | ((nd.bits >> 12) & ~mask);
      moved |= step;
      idx[j] += step;
    }
    if (moved == 0) return;
  }
}

uint32_t LeafOrdinal(const DeepNode& nd) {
  uint32_t bits;
  std::memcpy(&bits, &nd.threshold, 4);
  return bits & (kDeepMaxLeaves - 1);
}

int32_t GenericLeaf(const Forest& f, const Tree& t, const float* row) { return FindLeaf(f, t, row); }

class CompiledPredictor final : public Predictor {
 public:
  CompiledPredictor(CompiledForest cf, SimdTarget target)
      : cf_(std::move(cf)),
        target_(target),
        kernel_(BitvectorKernelFor(target)),
        complete_kernel_(CompleteKernelFor(target)),
        walk_few_rows_(cf_.forest->trees_decoded()) {
    MakeMarginTables();
  }

  void PredictRaw(const float* x, size_t n_rows, double* out) const override {
    const size_t nf = cf_.n_features, no = cf_.n_outputs;
    for (size_t r = 0; r < n_rows; ++r) InitAccumulators(*cf_.forest, out + r * no);
    std::vector<float> tile;
    std::vector<double> acc;
    // Runs in tree order, each over all rows: every row still adds its
    // leaves in tree order. A deep tree is walked by all rows of the call
    // before the next one, so its nodes are fetched into cache once per call.
    for (const TreeRun& run : cf_.runs) {
      switch (run.layout) {
        case TreeLayout::kComplete:
          // A tile costs kCompleteTileRows rows whatever it holds: a few rows walk instead.
          if (n_rows < kMinTileRows && walk_few_rows_) {
            WalkForestTrees(run.tree_begin, run.tree_end, x, n_rows, out);
          } else {
            complete_kernel_(cf_, run, x, n_rows, out, nullptr);
          }
          break;
        case TreeLayout::kBitvector:
          if (tile.empty()) tile.resize(kTileRows * nf), acc.resize(kTileRows * no);
          RunBitvector(run, x, n_rows, out, tile.data(), acc.data());
          break;
        case TreeLayout::kDeep: RunDeep(run, x, n_rows, out); break;
        case TreeLayout::kGeneric: RunGeneric(run, x, n_rows, out); break;
      }
    }
  }

  std::string name() const override { return std::string("compiled-") + SimdTargetName(target_); }

  double LabelMarginBound() const override { return margin_bound_; }

  void PredictLabelMargins(const float* x, size_t n_rows, double* d) const override {
    // A few rows would walk (PredictRaw): left to the exact sums.
    if (n_rows < kMinTileRows || margin_bound_ < 0) {
      std::fill(d, d + n_rows, std::numeric_limits<double>::quiet_NaN());
      return;
    }
    std::fill(d, d + n_rows, 0.0);
    for (const TreeRun& run : cf_.runs) complete_kernel_(cf_, run, x, n_rows, d, margin_tabs_);
  }

 private:
  // Label margins (predictor.h) for two-class forests of complete trees
  // whose labels are the argmax of averaged double
  // sums (scikit-learn's forests): per tree, float32 class-1-minus-class-0
  // leaf differences, and the bound on how far their float32 sum may be
  // from the exact sums' difference.
  void MakeMarginTables() {
    const Forest& f = *cf_.forest;
    if (!CompleteKernelHasLabelMargins(target_)) return;
    if (f.kind != ModelKind::kClassifier || f.class_labels.size() != 2 || cf_.n_outputs != 2 ||
        cf_.leaf_width != 2 || cf_.float32_sums || f.aggregate != Aggregate::kMean ||
        f.link != Link::kIdentity)
      return;
    for (const TreeRun& run : cf_.runs)
      if (run.layout != TreeLayout::kComplete) return;
    const size_t nt = cf_.complete_trees.size();
    margin_store_.assign(nt * kMarginTable + 16, 0.0f);
    margin_tabs_ =
        margin_store_.data() + (64 - reinterpret_cast<uintptr_t>(margin_store_.data()) % 64) % 64 / 4;
    double s = 0, v = 0;  // sums over trees of the largest |difference| and |v0| + |v1|
    for (size_t t = 0; t < nt; ++t) {
      const CompleteTree& ct = cf_.complete_trees[t];
      const double* vals = cf_.complete_values.data() + ct.value_begin;
      float* tab = margin_tabs_ + t * kMarginTable;
      double smax = 0, vmax = 0;
      for (size_t leaf = 0; leaf < (size_t{1} << ct.depth); ++leaf) {
        const double v0 = vals[2 * leaf], v1 = vals[2 * leaf + 1];
        tab[leaf] = static_cast<float>(v1 - v0);
        smax = std::max(smax, std::fabs(static_cast<double>(tab[leaf])));
        vmax = std::max(vmax, std::fabs(v0) + std::fabs(v1));
      }
      s += smax;
      v += vmax;
    }
    // Each table entry is v1 - v0 rounded twice (to double, then float32):
    // within 2u of it, u = 2^-24. Summing n terms in float32 in any order
    // errs by at most gamma_n = n u / (1 - n u) times the sum of their
    // magnitudes (Higham, Accuracy and Stability of Numerical Algorithms,
    // 4.2), so the margin d is within ef of the exact difference D. The
    // exact double sums s0, s1 are within gamma53_n * V of theirs, so
    // s1 - s0 is within ef + ed of d: |d| > 2 (ef + ed) gives s1 - s0 the
    // sign of d, at least ef + ed from 0, and the 8-ulp term keeps their
    // means, divided by the tree count, apart as well.
    const double n = static_cast<double>(nt), u = std::ldexp(1.0, -24), u53 = std::ldexp(1.0, -53);
    if (n * u >= 0.5 || !std::isfinite(s) || !std::isfinite(v)) return;
    const double ef = s * (1 + u) * (2 * u + n * u / (1 - n * u));
    const double ed = v * n * u53 / (1 - n * u53);
    margin_bound_ = (2 * (ef + ed) + 8 * u53 * v) * (1 + 1e-6);
  }

  void RunBitvector(const TreeRun& run, const float* x, size_t n, double* out, float* tile,
                    double* acc) const {
    // A tile costs kTileRows rows whatever it holds: a few rows walk instead.
    if (n < kMinTileRows && walk_few_rows_) return WalkForestTrees(run.tree_begin, run.tree_end, x, n, out);
    const size_t nf = cf_.n_features, no = cf_.n_outputs;
    for (size_t s = 0; s < n; s += kTileRows) {
      const size_t m = std::min(kTileRows, n - s);
      const bool nan = Transpose(x + s * nf, m, nf, tile);
      for (size_t r = 0; r < m; ++r)
        for (size_t k = 0; k < no; ++k) acc[k * kTileRows + r] = out[(s + r) * no + k];
      kernel_(cf_, run.first, run.tree_end - run.tree_begin, tile, nan, acc);
      for (size_t r = 0; r < m; ++r)
        for (size_t k = 0; k < no; ++k) out[(s + r) * no + k] = acc[k * kTileRows + r];
    }
  }

  template <size_t G>
  void DeepGroup(const DeepTree& dt, const float* x, size_t r0, double* out) const {
    const size_t nf = cf_.n_features, no = cf_.n_outputs, w = cf_.leaf_width;
    const bool f32 = cf_.float32_sums;
    const DeepNode* nodes = cf_.deep_nodes.data() + dt.node_begin;
    const double* values = cf_.deep_values.data() + dt.value_begin;
    const float* rows[G];
    uint32_t idx[G];
    for (size_t j = 0; j < G; ++j) rows[j] = x + (r0 + j) * nf;
    WalkDeep<G>(nodes, rows, idx);
    for (size_t j = 0; j < G; ++j) {
      const double* v = values + static_cast<size_t>(LeafOrdinal(nodes[idx[j]])) * w;
      double* o = out + (r0 + j) * no;
      if (w == 1) {
        o[dt.output] = AddToSum(f32, o[dt.output], v[0]);
      } else {
        for (size_t k = 0; k < w; ++k) o[k] = AddToSum(f32, o[k], v[k]);
      }
    }
  }

  void RunDeep(const TreeRun& run, const float* x, size_t n, double* out) const {
    for (uint32_t t = 0; t < run.tree_end - run.tree_begin; ++t) {
      const DeepTree& dt = cf_.deep_trees[run.first + t];
      size_t r = 0;
      for (; r + kDeepGroup <= n; r += kDeepGroup) DeepGroup<kDeepGroup>(dt, x, r, out);
      for (; r < n; ++r) DeepGroup<1>(dt, x, r, out);
    }
  }

  void RunGeneric(const TreeRun& run, const float* x, size_t n, double* out) const {
    WalkForestTrees(run.tree_begin, run.tree_end, x, n, out);
  }

  // Forest trees [begin, end) walked row by row on the Forest's own nodes.
  void WalkForestTrees(uint32_t begin, uint32_t end, const float* x, size_t n, double* out) const {
    const Forest& f = *cf_.forest;
    const size_t nf = cf_.n_features, no = cf_.n_outputs, w = cf_.leaf_width;
    const bool f32 = cf_.float32_sums;
    for (uint32_t t = begin; t < end; ++t) {
      const Tree& tree = f.trees[t];
      for (size_t r = 0; r < n; ++r) {
        const double* v = &tree.values[static_cast<size_t>(GenericLeaf(f, tree, x + r * nf)) * w];
        double* o = out + r * no;
        if (w == 1) {
          o[tree.output] = AddToSum(f32, o[tree.output], v[0]);
        } else {
          for (size_t k = 0; k < w; ++k) o[k] = AddToSum(f32, o[k], v[k]);
        }
      }
    }
  }

  CompiledForest cf_;
  SimdTarget target_;
  BitvectorKernel kernel_;
  CompleteKernel complete_kernel_;
  // The Forest's nodes are there to walk (ReadStoredLayout decodes them
  // whenever a run is generic, so undecoded trees mean no generic run).
  bool walk_few_rows_;
  // MakeMarginTables: kMarginTable floats per complete tree; bound < 0: none.
  // (margin_tabs_ points into margin_store_, 64-byte aligned).
  std::vector<float> margin_store_;
  float* margin_tabs_ = nullptr;
  double margin_bound_ = -1;
};

}  // namespace

std::unique_ptr<Predictor> MakeCompiledPredictor(std::shared_ptr<const Forest> forest, SimdTarget target) {
  return std::make_unique<CompiledPredictor>(CompileForest(std::move(forest)), target);
}

std::unique_ptr<Predictor> MakeCompiledPredictor(CompiledForest cf, SimdTarget target) {
  // Generic runs walk the nodes (ReadStoredLayout and CompileForest decode
  // them already; this keeps any other CompiledForest from walking none).
  if (!cf.forest->trees_decoded())
    for (const TreeRun& run : cf.runs)
      if (run.layout == TreeLayout::kGeneric) {
        cf.forest = DecodedForestOrAbort(std::move(cf.forest));
        break;
      }
  return std::make_unique<CompiledPredictor>(std::move(cf), target);
}

std::unique_ptr<Predictor> MakeBestPredictor(std::shared_ptr<const Forest> forest) {
  return MakeCompiledPredictor(std::move(forest), ChosenSimdTarget());
}

Result<std::unique_ptr<Predictor>> MakeModelPredictor(std::shared_ptr<const Forest> forest) {
  FB_ASSIGN_OR_RETURN(CompiledForest cf, CompiledForestFor(std::move(forest)));
  return MakeCompiledPredictor(std::move(cf), ChosenSimdTarget());
}

}  // namespace fb
