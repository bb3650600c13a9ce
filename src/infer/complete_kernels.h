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
//
// Label margins (margin_tabs not null; two-output runs, leaf_width 2):
// instead of the pairs of sums, out holds ONE double per row (n_rows of
// them), to which every tree adds, in float32,
// margin_tabs[tree * kMarginTable + leaf] (tree: the index into
// cf.complete_trees; entries past the tree's leaves are zero): an
// approximate class-1-minus-class-0 difference whose error PredictLabels
// (predictor.h) bounds.
// Thread safety: pure functions of their arguments (scratch is per call).
#pragma once

#include <cstddef>

#include "common/simd.h"
#include "infer/compiled_forest.h"

namespace fb {

// Label margins' tables: kMarginTable floats a tree (64-byte aligned), one
// per leaf of the deepest complete tree.
inline constexpr size_t kMarginTable = size_t{1} << kCompleteMaxDepth;

using CompleteKernel = void (*)(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                                double* out, const float* margin_tabs);

void CompleteKernelPortable(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                            double* out, const float* margin_tabs);
void CompleteKernelAvx2(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                        double* out, const float* margin_tabs);
// Unranked runs: the bit cascade (512 rows per vpternlogq); ranked runs: 64
// rows per vector, byte blends under mask registers (vpblendmb). Needs
// AVX512BW as well as AVX512F: call only when CompleteAvx512Supported().
void CompleteKernelAvx512(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                          double* out, const float* margin_tabs);
bool CompleteAvx512Supported();

// The kernel for `target`: AVX-512 machines with AVX512BW run the AVX-512
// kernel, other AVX-512 machines the AVX2 one; the portable one where a
// target was not compiled in.
CompleteKernel CompleteKernelFor(SimdTarget target);

// Whether label margins pay off with `target`'s kernel: where float32 leaves
// are looked up in registers (AVX-512; measured on the seed model, AVX2's
// and the portable kernel's margins were no faster than their pairs of
// double sums). Any kernel computes them correctly.
bool CompleteKernelHasLabelMargins(SimdTarget target);

}  // namespace fb
