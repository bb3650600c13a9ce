#include "infer/compiled_predictor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "infer/bitvector_kernels.h"
#include "infer/compiled_forest.h"

namespace fb {
namespace {

// Rows per block: every run of trees is evaluated for a block before the
// next run, so a deep tree's hot nodes are reused by this many rows.
constexpr size_t kBlockRows = 512;
// Rows walked in lockstep through a deep tree (independent cache misses in
// flight).
constexpr size_t kDeepGroup = 16;

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

template <size_t G>
void WalkDeep(const DeepNode* nodes, const float* const* rows, uint32_t* idx) {
  for (size_t j = 0; j < G; ++j) idx[j] = 0;
  for (;;) {
    uint32_t moved = 0;
    for (size_t j = 0; j < G; ++j) {
      const DeepNode nd = nodes[idx[j]];
      const float v = rows[j][(nd.bits >> 1) & (kDeepMaxFeatures - 1)];
      const bool left = (v <= nd.threshold) | ((v != v) & (nd.bits & 1));
      const uint32_t next = idx[j] + (left ? 1u : nd.bits >> 12);
      moved |= next ^ idx[j];
      idx[j] = next;
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
  CompiledPredictor(std::shared_ptr<const Forest> forest, SimdTarget target)
      : cf_(CompileForest(std::move(forest))), target_(target), kernel_(BitvectorKernelFor(target)) {}

  void PredictRaw(const float* x, size_t n_rows, double* out) const override {
    const size_t nf = cf_.n_features, no = cf_.n_outputs;
    std::fill(out, out + n_rows * no, 0.0);
    std::vector<float> tile;
    std::vector<double> acc;
    for (size_t b = 0; b < n_rows; b += kBlockRows) {
      const size_t nb = std::min(kBlockRows, n_rows - b);
      const float* xb = x + b * nf;
      double* ob = out + b * no;
      for (const TreeRun& run : cf_.runs) {
        switch (run.layout) {
          case TreeLayout::kBitvector:
            if (tile.empty()) tile.resize(kTileRows * nf), acc.resize(kTileRows * no);
            RunBitvector(run, xb, nb, ob, tile.data(), acc.data());
            break;
          case TreeLayout::kDeep: RunDeep(run, xb, nb, ob); break;
          case TreeLayout::kGeneric: RunGeneric(run, xb, nb, ob); break;
        }
      }
    }
  }

  std::string name() const override { return std::string("compiled-") + SimdTargetName(target_); }

 private:
  void RunBitvector(const TreeRun& run, const float* x, size_t n, double* out, float* tile,
                    double* acc) const {
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
    const DeepNode* nodes = &cf_.deep_nodes[dt.node_begin];
    const double* values = cf_.deep_values.data() + dt.value_begin;
    const float* rows[G];
    uint32_t idx[G];
    for (size_t j = 0; j < G; ++j) rows[j] = x + (r0 + j) * nf;
    WalkDeep<G>(nodes, rows, idx);
    for (size_t j = 0; j < G; ++j) {
      const double* v = values + static_cast<size_t>(LeafOrdinal(nodes[idx[j]])) * w;
      double* o = out + (r0 + j) * no;
      if (w == 1) {
        o[dt.output] += v[0];
      } else {
        for (size_t k = 0; k < w; ++k) o[k] += v[k];
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
    const Forest& f = *cf_.forest;
    const size_t nf = cf_.n_features, no = cf_.n_outputs, w = cf_.leaf_width;
    for (uint32_t t = 0; t < run.tree_end - run.tree_begin; ++t) {
      const Tree& tree = f.trees[cf_.generic_trees[run.first + t]];
      for (size_t r = 0; r < n; ++r) {
        const double* v = &tree.values[static_cast<size_t>(GenericLeaf(f, tree, x + r * nf)) * w];
        double* o = out + r * no;
        if (w == 1) {
          o[tree.output] += v[0];
        } else {
          for (size_t k = 0; k < w; ++k) o[k] += v[k];
        }
      }
    }
  }

  CompiledForest cf_;
  SimdTarget target_;
  BitvectorKernel kernel_;
};

}  // namespace

std::unique_ptr<Predictor> MakeCompiledPredictor(std::shared_ptr<const Forest> forest, SimdTarget target) {
  return std::make_unique<CompiledPredictor>(std::move(forest), target);
}

std::unique_ptr<Predictor> MakeBestPredictor(std::shared_ptr<const Forest> forest) {
  return MakeCompiledPredictor(std::move(forest), ChosenSimdTarget());
}

}  // namespace fb
