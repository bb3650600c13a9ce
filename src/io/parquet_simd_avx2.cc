// The AVX2 set of the Parquet reader's kernels (io/parquet_simd.h): bands of
// 8 rows transposed 8x8; dictionary indices unpacked 8 at a time by variable
// shifts and looked up by a permutation (bit widths up to 3) or a gather.
// Everything in the target region (common/simd_target.h) is compiled for AVX2
// and has internal linkage but the entry points; the library headers come
// before it.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/simd_target.h"
#include "io/parquet_simd_targets.h"

#if defined(__x86_64__)
#include <immintrin.h>

FB_TARGET_BEGIN("avx2,bmi")

namespace fb::parquet_simd {
namespace {

#include "io/parquet_simd_avx.h"

constexpr size_t kBand = 8;

template <int BW>
bool UnpackLookupBW(const uint8_t* p, uint64_t groups, const float* dict, float* out, uint32_t limit) {
  const __m256i mask = _mm256_set1_epi32((1 << BW) - 1);
  const __m256i below = _mm256_set1_epi32(static_cast<int32_t>(limit) - 1);  // limit <= 256
  const bool check = limit < (1u << BW);
  const __m256 table = _mm256_loadu_ps(dict);
  __m256i bad = _mm256_setzero_si256();
  for (uint64_t g = 0; g < groups; ++g, p += BW, out += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    __m256i idx;
    if constexpr (BW <= 4) {
      // 8 indices of up to 4 bits: 32 bits, one lane each by a variable shift.
      idx = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int32_t>(w)),
                              _mm256_setr_epi32(0, BW, 2 * BW, 3 * BW, 4 * BW, 5 * BW, 6 * BW, 7 * BW));
    } else {
      // Up to 64 bits: 64-bit shifts, four indices each, then their low halves in order.
      const __m256i all = _mm256_set1_epi64x(static_cast<int64_t>(w));
      const __m256i lo = _mm256_srlv_epi64(all, _mm256_setr_epi64x(0, BW, 2 * BW, 3 * BW));
      const __m256i hi = _mm256_srlv_epi64(all, _mm256_setr_epi64x(4 * BW, 5 * BW, 6 * BW, 7 * BW));
      const __m256i mixed =
          _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(lo), _mm256_castsi256_ps(hi), 0x88));
      idx = _mm256_permute4x64_epi64(mixed, 0xD8);
    }
    idx = _mm256_and_si256(idx, mask);
    if (check) bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(idx, below));
    if constexpr (BW <= 3) {
      _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(table, idx));
    } else {
      _mm256_storeu_ps(out, _mm256_i32gather_ps(dict, idx, 4));
    }
  }
  return !_mm256_testz_si256(bad, bad);
}

}  // namespace

void TransposeAvx2(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n, float* out,
                   size_t nf, size_t rows_after) {
  size_t r = 0;
  for (; r + kBand <= n; r += kBand) {
    PrefetchRows(out, nf, r + kPrefetchRows, kBand, n + rows_after);
    float* row = out + r * nf;
    for (size_t k = 0; k < n_runs; ++k) TransposeNarrow(cols, runs[k], 0, r, kBand, row, nf);
  }
  TransposeRows(cols, runs, n_runs, r, n, out, nf);
}

bool UnpackLookupAvx2(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                      uint32_t limit) {
  return ForBitWidth(bw,
                     [&](auto w) { return UnpackLookupBW<decltype(w)::value>(p, groups, dict, out, limit); });
}

}  // namespace fb::parquet_simd

FB_TARGET_END()

#endif  // __x86_64__
