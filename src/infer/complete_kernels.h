// Complete-tree kernels for CompiledForest's kComplete runs, one per SIMD
// target; see compiled_forest.h for the layout.
//
// A kernel adds, for every row of x (row-major, n_rows x cf.n_features
// float32), the leaf values of every tree of `run` to the row's sums in out
// (row-major, n_rows x cf.n_outputs doubles), in tree order, in double (in
// float32 when cf.float32_sums): the same additions, in the same order, as
// ReferencePredictor.
//
// Rows go through tiles of kCompleteTileRows: the run's features are copied
// column-major, each predicate group's tests are evaluated into one byte per
// row (0xFF: right), and each tree turns its nodes' bytes into a leaf index
// per row with byte blends, level by level, without branches.
// The AVX-512 kernel keeps unranked runs' predicate results as bits instead,
// for tiles of 512 rows, and blends 512 rows per vpternlogq; single float32
// sums look their leaves up in registers (vpermt2ps), 16 rows a vector.
//
// The AVX2 kernel may only be called when SimdTargetSupported(kAvx2), the
// AVX-512 one when CompleteAvx512Supported().
// Thread safety: pure functions of their arguments (scratch is per call).
#pragma once

#include <cstddef>

#include "common/simd.h"
#include "infer/compiled_forest.h"

namespace fb {

using CompleteKernel = void (*)(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                                double* out);

void CompleteKernelPortable(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                            double* out);
void CompleteKernelAvx2(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                        double* out);
// Unranked runs: the bit cascade (512 rows per vpternlogq); ranked runs: 64
// rows per vector, byte blends under mask registers (vpblendmb). Needs
// AVX512BW as well as AVX512F: call only when CompleteAvx512Supported().
void CompleteKernelAvx512(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                          double* out);
bool CompleteAvx512Supported();

// The kernel for `target`: AVX-512 machines with AVX512BW run the AVX-512
// kernel, other AVX-512 machines the AVX2 one; the portable one where a
// target was not compiled in.
CompleteKernel CompleteKernelFor(SimdTarget target);

}  // namespace fb
