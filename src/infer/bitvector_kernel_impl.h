// The bitvector kernel (see bitvector_kernels.h), written once over an `Ops`
// policy that supplies a vector of per-row 32-bit leaf sets and its
// operations. bitvector_kernel_<target>.cc includes this file inside an
// anonymous namespace, inside its target region (common/simd_target.h), so that every function here
// is compiled for that target and none can be mistaken for another target's
// copy at link time. For the same reason this file includes nothing: the
// including file includes bitvector_kernels.h before its pragma, and the
// exported kernel hands this code raw pointers only.
//
// Ops:
//   static constexpr int kLanes;                rows per vector
//   using Live = ...;                           kLanes 32-bit leaf sets
//   static Live AllLeaves();                    every bit set
//   template <bool kNanRight>
//   static Live ClearIfRight(Live live, const float* col, float t, uint32_t left_leaves);
//       per row r < kLanes: live[r] & ~left_leaves when col[r] goes right
//       (not col[r] <= t; NaN right when kNanRight, left otherwise), else live[r].
//   static Live LowestLeaf(Live live);          per row: index of the lowest set bit (live != 0)
//   template <bool kF32>
//   static void AddLeaves(Live leaf, const double* values, size_t w, double* acc);
//       for r < kLanes, k < w: acc[k * kTileRows + r] += values[leaf[r] * w + k],
//       a float32 addition when kF32.

template <class Ops>
struct BitvectorImpl {
  using Live = typename Ops::Live;
  static constexpr int kVecs = static_cast<int>(kTileRows) / Ops::kLanes;
  static_assert(kTileRows % Ops::kLanes == 0);

  template <bool kNan, bool kF32>
  static void Run(const BitvectorTree* trees, size_t count, const BitvectorNode* all_nodes,
                  const double* all_values, size_t w, const float* tile, double* acc) {
    for (size_t t = 0; t < count; ++t) {
      const BitvectorTree& bt = trees[t];
      Live live[kVecs];
      for (int v = 0; v < kVecs; ++v) live[v] = Ops::AllLeaves();
      const BitvectorNode* nodes = all_nodes + bt.node_begin;
      for (uint32_t i = 0; i < bt.n_nodes; ++i) {
        const BitvectorNode& nd = nodes[i];
        const float* col = tile + nd.column;
        if (!kNan || !nd.default_left) {
#pragma GCC unroll 8
          for (int v = 0; v < kVecs; ++v) {
            live[v] = Ops::template ClearIfRight<true>(live[v], col + Ops::kLanes * v, nd.threshold,
                                                       nd.left_leaves);
          }
        } else {
#pragma GCC unroll 8
          for (int v = 0; v < kVecs; ++v) {
            live[v] = Ops::template ClearIfRight<false>(live[v], col + Ops::kLanes * v, nd.threshold,
                                                        nd.left_leaves);
          }
        }
      }
      const double* values = all_values + bt.value_begin;
      double* a = acc + (w == 1 ? static_cast<size_t>(bt.output) * kTileRows : 0);
#pragma GCC unroll 8
      for (int v = 0; v < kVecs; ++v) {
        Ops::template AddLeaves<kF32>(Ops::LowestLeaf(live[v]), values, w, a + Ops::kLanes * v);
      }
    }
  }

  static void Kernel(const BitvectorTree* trees, size_t count, const BitvectorNode* nodes,
                     const double* values, size_t w, bool float32_sums, const float* tile, bool has_nan,
                     double* acc) {
    if (float32_sums) {
      if (has_nan) {
        Run<true, true>(trees, count, nodes, values, w, tile, acc);
      } else {
        Run<false, true>(trees, count, nodes, values, w, tile, acc);
      }
    } else if (has_nan) {
      Run<true, false>(trees, count, nodes, values, w, tile, acc);
    } else {
      Run<false, false>(trees, count, nodes, values, w, tile, acc);
    }
  }
};
