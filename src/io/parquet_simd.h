// The Parquet reader's vector kernels, one set per SIMD target (common/simd.h),
// the set chosen at run time like the tree kernels' (never -march=native):
//
//   Transpose: a slice's column pieces into its row-major feature block, in
//   bands of rows (4 rows and 4x4 transposes for the portable set, 8 rows and
//   8x8 for AVX2, 16 rows and 16x16 for AVX-512), each band's rows written
//   whole before the next band's, the block's lines asked for, for writing,
//   a few bands ahead.
//   UnpackLookup: whole groups of 8 bit-packed dictionary indices (the RLE /
//   bit-packed hybrid's bit-packed runs) looked up into floats, with the
//   check that no index is past the dictionary.
//
// Every set gives exactly the same floats; the AVX2 and AVX-512 sets may only
// be used where SimdTargetSupported says so (ParquetKernelsFor falls back to
// the best supported set). Thread safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/simd.h"

namespace fb {

// `width` consecutive features from `feature` on, read from the column
// pieces cols[slot], ..., cols[slot + width - 1] (width 1 to 16).
struct TransposeRun {
  uint32_t slot;
  int32_t feature;
  uint32_t width;
};

// For r < n and every run: out[r * nf + run.feature + i] = cols[run.slot + i][r]
// (i < run.width). The block holds rows_after more rows after these n (they
// may be prefetched for writing, never written).
using TransposeFn = void (*)(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n,
                             float* out, size_t nf, size_t rows_after);

// `groups` whole groups of 8 indices of bw bits (1 to 8) at p, group g at
// p + g * bw with 8 readable bytes at every group's start (the bits past a
// group are ignored), each looked up in dict (256 entries readable, those
// past 2^bw never used) into out[8 * groups]. Returns whether any index was `limit` or
// more (looked for only when limit < 2^bw; the floats are then unspecified).
using UnpackLookupFn = bool (*)(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                                uint32_t limit);

struct ParquetKernels {
  SimdTarget target;
  TransposeFn transpose;
  UnpackLookupFn unpack_lookup;
};

// The set for `target`, or the best supported one below it.
const ParquetKernels& ParquetKernelsFor(SimdTarget target);
// The set for ChosenSimdTarget() (FORESTBATCH_SIMD forces one).
const ParquetKernels& ChosenParquetKernels();

}  // namespace fb
