// Bitvector (QuickScorer-style) kernels for CompiledForest's kBitvector trees,
// one per SIMD target; see compiled_forest.h for the method.
//
// A kernel evaluates trees cf.bv_trees[first, first + count), in order, for
// one tile of kTileRows rows:
//   tile: column-major, feature f of row r at tile[f * kTileRows + r];
//   has_nan: whether any value in the tile is NaN (enables the slower
//            default_left handling);
//   acc: column-major accumulators, output k of row r at
//        acc[k * kTileRows + r]; each tree adds its leaf values in order
//        (float32 additions when cf.float32_sums).
// The AVX2 and AVX-512 kernels (BitvectorKernelFor) may only be called when
// SimdTargetSupported says so. Thread safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/simd.h"
#include "infer/compiled_forest.h"

namespace fb {

using BitvectorKernel = void (*)(const CompiledForest& cf, size_t first, size_t count, const float* tile,
                                 bool has_nan, double* acc);

void BitvectorKernelScalar(const CompiledForest& cf, size_t first, size_t count, const float* tile,
                           bool has_nan, double* acc);

// The AVX2 and AVX-512 kernels' bodies, on the forest's arrays: trees
// [0, count) of `trees`, their nodes and leaf values in `nodes` and `values`,
// w = cf.leaf_width. Each is compiled in its target region, where no library
// code is (common/simd_target.h); BitvectorKernelFor hands them the forest's
// arrays.
void BitvectorBodyAvx2(const BitvectorTree* trees, size_t count, const BitvectorNode* nodes,
                       const double* values, size_t w, bool float32_sums, const float* tile, bool has_nan,
                       double* acc);
void BitvectorBodyAvx512(const BitvectorTree* trees, size_t count, const BitvectorNode* nodes,
                         const double* values, size_t w, bool float32_sums, const float* tile, bool has_nan,
                         double* acc);

// The kernel for `target`; the scalar one where a target was not compiled in.
BitvectorKernel BitvectorKernelFor(SimdTarget target);

// acc[k * kTileRows + r] += values[leaf[r] * width + k] for every row and k,
// each a float32 addition when `float32` (cf.float32_sums): the
// leaf_width > 1 tail shared by all kernels.
void AddWideLeafValues(const double* values, size_t width, const uint32_t* leaf, bool float32, double* acc);

}  // namespace fb
