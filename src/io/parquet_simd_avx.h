// Pieces shared by the AVX2 and AVX-512 sets of the Parquet reader's kernels
// (parquet_simd_avx2.cc, parquet_simd_avx512.cc): included inside each file's
// target region and anonymous namespace, so that every function here is
// compiled for that file's target. It includes nothing but
// common/avx_transpose.h, which includes nothing: the including file includes
// <immintrin.h>, <cstddef>, <cstdint> and <cstring> first.

#include "common/avx_transpose.h"

#define FB_INLINE inline __attribute__((always_inline))

// Rows [r, r + rows) of the block asked for, for writing, when r + rows <= end.
FB_INLINE void PrefetchRows(float* out, size_t nf, size_t r, size_t rows, size_t end) {
  if (r + rows > end) return;
  const char* band = reinterpret_cast<const char*>(out + r * nf);
  for (size_t l = 0; l < rows * nf * sizeof(float); l += 64) __builtin_prefetch(band + l, 1);
}

// Rows r .. r + 3 of the 4 columns c[0..3] into out (row stride nf).
FB_INLINE void Transpose4x4(const float* const* c, size_t r, float* out, size_t nf) {
  __m128 a = _mm_loadu_ps(c[0] + r), b = _mm_loadu_ps(c[1] + r), d = _mm_loadu_ps(c[2] + r),
         e = _mm_loadu_ps(c[3] + r);
  _MM_TRANSPOSE4_PS(a, b, d, e);
  _mm_storeu_ps(out, a);
  _mm_storeu_ps(out + nf, b);
  _mm_storeu_ps(out + 2 * nf, d);
  _mm_storeu_ps(out + 3 * nf, e);
}

// Rows r .. r + 7 of the 8 columns c[0..7] into out (row stride nf).
FB_INLINE void Transpose8x8(const float* const* c, size_t r, float* out, size_t nf) {
  __m256 x[8], t[8];
  for (int i = 0; i < 8; ++i) x[i] = _mm256_loadu_ps(c[i] + r);
  Transpose8x8Regs(x, t);
  for (int k = 0; k < 8; ++k) _mm256_storeu_ps(out + k * nf, t[k]);
}

// Rows r .. r + rows - 1 (rows a multiple of 4) of the run's columns from
// its column `i` on, 8 and then 4 columns at a time, the rest one by one.
FB_INLINE void TransposeNarrow(const float* const* cols, const TransposeRun& run, uint32_t i, size_t r,
                               size_t rows, float* row, size_t nf) {
  for (; i + 8 <= run.width && rows % 8 == 0; i += 8)
    for (size_t h = 0; h < rows; h += 8)
      Transpose8x8(cols + run.slot + i, r + h, row + h * nf + run.feature + i, nf);
  for (; i + 4 <= run.width; i += 4)
    for (size_t h = 0; h < rows; h += 4)
      Transpose4x4(cols + run.slot + i, r + h, row + h * nf + run.feature + i, nf);
  for (; i < run.width; ++i) {
    const float* c = cols[run.slot + i] + r;
    float* o = row + run.feature + i;
    for (size_t h = 0; h < rows; ++h) o[h * nf] = c[h];
  }
}

#undef FB_INLINE
