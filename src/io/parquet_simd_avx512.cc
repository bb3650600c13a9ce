// The AVX-512 set of the Parquet reader's kernels (io/parquet_simd.h): bands
// of 16 rows transposed 16x16 in zmm registers; dictionary indices unpacked
// 16 at a time and looked up by one permutation (bit widths up to 5), a mask
// blend (bit width 1) or a gather. Needs AVX512F only. Everything in the
// target region (common/simd_target.h) is compiled for AVX-512 and has
// internal linkage but the entry points; the library headers come before it.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/simd_target.h"
#include "io/parquet_simd_targets.h"

#if defined(__x86_64__)
#include <immintrin.h>

FB_TARGET_BEGIN("avx512f,avx2,bmi")

namespace fb::parquet_simd {
namespace {

#include "io/parquet_simd_avx.h"

constexpr size_t kBand = 16;

// Rows r .. r + 15 of the 16 columns c[0..15] into out (row stride nf).
inline __attribute__((always_inline)) void Transpose16x16(const float* const* c, size_t r, float* out,
                                                          size_t nf) {
  __m512 a[16], t[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm512_loadu_ps(c[i] + r);
  // Within each 128-bit lane: pairs of columns interleaved, then four
  // columns' values of one row together (t[4q + e], lane L: row 4L + e of
  // columns 4q .. 4q + 3).
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(a[i], a[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(a[i], a[i + 1]);
  }
  for (int q = 0; q < 16; q += 4) {
    a[q] = _mm512_shuffle_ps(t[q], t[q + 2], 0x44);
    a[q + 1] = _mm512_shuffle_ps(t[q], t[q + 2], 0xEE);
    a[q + 2] = _mm512_shuffle_ps(t[q + 1], t[q + 3], 0x44);
    a[q + 3] = _mm512_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
  }
  // Then the 4 x 4 lanes of each e transposed: row 4L + e is lane L of
  // a[e], a[4 + e], a[8 + e], a[12 + e].
  for (int e = 0; e < 4; ++e) {
    const __m512 v0 = _mm512_shuffle_f32x4(a[e], a[4 + e], 0x88),
                 v1 = _mm512_shuffle_f32x4(a[e], a[4 + e], 0xDD),
                 v2 = _mm512_shuffle_f32x4(a[8 + e], a[12 + e], 0x88),
                 v3 = _mm512_shuffle_f32x4(a[8 + e], a[12 + e], 0xDD);
    _mm512_storeu_ps(out + e * nf, _mm512_shuffle_f32x4(v0, v2, 0x88));
    _mm512_storeu_ps(out + (4 + e) * nf, _mm512_shuffle_f32x4(v1, v3, 0x88));
    _mm512_storeu_ps(out + (8 + e) * nf, _mm512_shuffle_f32x4(v0, v2, 0xDD));
    _mm512_storeu_ps(out + (12 + e) * nf, _mm512_shuffle_f32x4(v1, v3, 0xDD));
  }
}

// Two groups (16 indices of BW bits) at p, as 16 lanes.
template <int BW>
inline __attribute__((always_inline)) __m512i Indices16(const uint8_t* p) {
  const __m512i shifts = _mm512_setr_epi64(0, BW, 2 * BW, 3 * BW, 4 * BW, 5 * BW, 6 * BW, 7 * BW);
  const __m512i mask = _mm512_set1_epi64((int64_t{1} << BW) - 1);
  uint64_t w0, w1;
  std::memcpy(&w0, p, 8);
  std::memcpy(&w1, p + BW, 8);
  const __m256i i0 = _mm512_cvtepi64_epi32(
      _mm512_and_si512(_mm512_srlv_epi64(_mm512_set1_epi64(static_cast<int64_t>(w0)), shifts), mask));
  const __m256i i1 = _mm512_cvtepi64_epi32(
      _mm512_and_si512(_mm512_srlv_epi64(_mm512_set1_epi64(static_cast<int64_t>(w1)), shifts), mask));
  return _mm512_inserti64x4(_mm512_castsi256_si512(i0), i1, 1);
}

template <int BW>
bool UnpackLookupBW(const uint8_t* p, uint64_t groups, const float* dict, float* out, uint32_t limit) {
  const bool check = limit < (1u << BW);
  const __m512i lim = _mm512_set1_epi32(static_cast<int32_t>(limit));
  __mmask16 bad = 0;
  uint64_t g = 0;
  if constexpr (BW == 1) {
    // 16 indices of one bit: a mask choosing between two broadcast values.
    const __m512 zero = _mm512_set1_ps(dict[0]), one = _mm512_set1_ps(dict[1]);
    for (; g + 2 <= groups; g += 2, p += 2, out += 16) {
      uint16_t m;
      std::memcpy(&m, p, 2);
      if (check) bad |= limit == 0 ? 0xFFFF : m;
      _mm512_storeu_ps(out, _mm512_mask_blend_ps(m, zero, one));
    }
  } else {
    const __m512 d0 = _mm512_loadu_ps(dict), d1 = _mm512_loadu_ps(dict + 16);
    for (; g + 2 <= groups; g += 2, p += 2 * BW, out += 16) {
      const __m512i idx = Indices16<BW>(p);
      if (check) bad |= _mm512_cmpge_epu32_mask(idx, lim);
      __m512 v;
      if constexpr (BW <= 4) {
        v = _mm512_permutexvar_ps(idx, d0);
      } else if constexpr (BW == 5) {
        v = _mm512_permutex2var_ps(d0, idx, d1);
      } else {
        v = _mm512_i32gather_ps(idx, dict, 4);
      }
      _mm512_storeu_ps(out, v);
    }
  }
  // An odd last group: the portable code's.
  const bool last = g < groups && UnpackLookupPortable(BW, p, groups - g, dict, out, limit);
  return bad != 0 || last;
}

}  // namespace

void TransposeAvx512(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n, float* out,
                     size_t nf, size_t rows_after) {
  size_t r = 0;
  for (; r + kBand <= n; r += kBand) {
    PrefetchRows(out, nf, r + kPrefetchRows, kBand, n + rows_after);
    float* row = out + r * nf;
    for (size_t k = 0; k < n_runs; ++k) {
      const TransposeRun& run = runs[k];
      uint32_t i = 0;
      if (run.width == 16) {
        Transpose16x16(cols + run.slot, r, row + run.feature, nf);
        i = 16;
      }
      TransposeNarrow(cols, run, i, r, kBand, row, nf);
    }
  }
  // A last band of 8 and one of 4 rows as the AVX2 set does them, then row by row.
  if (r + 8 <= n) {
    for (size_t k = 0; k < n_runs; ++k) TransposeNarrow(cols, runs[k], 0, r, 8, out + r * nf, nf);
    r += 8;
  }
  if (r + 4 <= n) {
    for (size_t k = 0; k < n_runs; ++k) TransposeNarrow(cols, runs[k], 0, r, 4, out + r * nf, nf);
    r += 4;
  }
  TransposeRows(cols, runs, n_runs, r, n, out, nf);
}

bool UnpackLookupAvx512(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                        uint32_t limit) {
  return ForBitWidth(bw,
                     [&](auto w) { return UnpackLookupBW<decltype(w)::value>(p, groups, dict, out, limit); });
}

}  // namespace fb::parquet_simd

FB_TARGET_END()

#endif  // __x86_64__
