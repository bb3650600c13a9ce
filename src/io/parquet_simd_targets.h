// Entry points of each set of the Parquet reader's kernels (io/parquet_simd.h),
// for parquet_simd.cc to choose among, and the portable helpers the AVX2 and
// AVX-512 sets call for what they leave to scalar code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "io/parquet_simd.h"

namespace fb::parquet_simd {

// unpack(std::integral_constant<int, W>()) for the bit width bw = W of 1..8,
// the widths each set instantiates its unpacking for; false for any other
// (the caller then decodes the run the general way).
template <class F>
bool ForBitWidth(int bw, F&& unpack) {
  switch (bw) {
    case 1: return unpack(std::integral_constant<int, 1>());
    case 2: return unpack(std::integral_constant<int, 2>());
    case 3: return unpack(std::integral_constant<int, 3>());
    case 4: return unpack(std::integral_constant<int, 4>());
    case 5: return unpack(std::integral_constant<int, 5>());
    case 6: return unpack(std::integral_constant<int, 6>());
    case 7: return unpack(std::integral_constant<int, 7>());
    case 8: return unpack(std::integral_constant<int, 8>());
    default: return false;
  }
}

// The transpositions ask for the block's lines this many rows ahead.
inline constexpr size_t kPrefetchRows = 16;

// Rows [r0, r1) of the transposition, one value at a time.
void TransposeRows(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t r0, size_t r1,
                   float* out, size_t nf);
// Prefetches rows [r, r + rows) of the block for writing when r + rows <= end.
void PrefetchBand(float* out, size_t nf, size_t r, size_t rows, size_t end);

void TransposePortable(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n,
                       float* out, size_t nf, size_t rows_after);
bool UnpackLookupPortable(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                          uint32_t limit);

#if defined(__x86_64__)
void TransposeAvx2(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n, float* out,
                   size_t nf, size_t rows_after);
bool UnpackLookupAvx2(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                      uint32_t limit);
void TransposeAvx512(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n, float* out,
                     size_t nf, size_t rows_after);
bool UnpackLookupAvx512(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                        uint32_t limit);
#endif

}  // namespace fb::parquet_simd
