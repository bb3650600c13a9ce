// Portable kernel: plain C++ over uint32 leaf sets (the compiler may use the
// baseline SSE2 for it).
#include "infer/bitvector_kernels.h"

namespace fb {

void AddWideLeafValues(const double* values, size_t width, const uint32_t* leaf, bool float32, double* acc) {
  for (size_t r = 0; r < kTileRows; ++r) {
    const double* v = values + leaf[r] * width;
    for (size_t k = 0; k < width; ++k)
      acc[k * kTileRows + r] = AddToSum(float32, acc[k * kTileRows + r], v[k]);
  }
}

void BitvectorKernelScalar(const CompiledForest& cf, size_t first, size_t count, const float* tile,
                           bool has_nan, double* acc) {
  const size_t w = cf.leaf_width;
  uint32_t live[kTileRows], leaf[kTileRows];
  for (size_t t = first; t < first + count; ++t) {
    const BitvectorTree& bt = cf.bv_trees[t];
    for (uint32_t& b : live) b = ~0u;
    const BitvectorNode* nodes = cf.bv_nodes.data() + bt.node_begin;
    for (uint32_t i = 0; i < bt.n_nodes; ++i) {
      const BitvectorNode& nd = nodes[i];
      const float* col = tile + nd.column;
      const uint32_t dl = has_nan ? nd.default_left : 0u;
      for (size_t r = 0; r < kTileRows; ++r) {
        // Right when not x <= t, except NaN on a default-left node.
        uint32_t right = !(col[r] <= nd.threshold) & !(dl & (col[r] != col[r]));
        live[r] &= ~(nd.left_leaves & (0u - right));
      }
    }
    for (size_t r = 0; r < kTileRows; ++r) leaf[r] = static_cast<uint32_t>(__builtin_ctz(live[r]));
    const double* values = cf.bv_values.data() + bt.value_begin;
    if (w == 1) {
      double* a = acc + static_cast<size_t>(bt.output) * kTileRows;
      if (cf.float32_sums) {
        for (size_t r = 0; r < kTileRows; ++r) a[r] = AddToSum(true, a[r], values[leaf[r]]);
      } else {
        for (size_t r = 0; r < kTileRows; ++r) a[r] += values[leaf[r]];
      }
    } else {
      AddWideLeafValues(values, w, leaf, cf.float32_sums, acc);
    }
  }
}

namespace {

#if defined(__x86_64__)
using BitvectorBody = void (*)(const BitvectorTree* trees, size_t count, const BitvectorNode* nodes,
                               const double* values, size_t w, bool float32_sums, const float* tile,
                               bool has_nan, double* acc);

// A target's kernel: its body on the forest's arrays.
template <BitvectorBody kBody>
void KernelOn(const CompiledForest& cf, size_t first, size_t count, const float* tile, bool has_nan,
              double* acc) {
  if (count == 0) return;
  kBody(cf.bv_trees.data() + first, count, cf.bv_nodes.data(), cf.bv_values.data(),
        static_cast<size_t>(cf.leaf_width), cf.float32_sums, tile, has_nan, acc);
}
#endif

}  // namespace

BitvectorKernel BitvectorKernelFor(SimdTarget target) {
#if defined(__x86_64__)
  if (target == SimdTarget::kAvx512) return KernelOn<BitvectorBodyAvx512>;
  if (target == SimdTarget::kAvx2) return KernelOn<BitvectorBodyAvx2>;
#endif
  return BitvectorKernelScalar;
}

}  // namespace fb
