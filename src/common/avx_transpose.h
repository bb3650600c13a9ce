// The 8x8 float32 transpose network in AVX registers, shared by the tree
// kernels (infer/avx_transpose.h: rows into tile columns) and the Parquet
// reader (io/parquet_simd_avx.h: column slices into rows). Included inside
// each kernel file's target region and anonymous namespace, so that it is
// compiled for that file's target: it includes nothing (the including file
// includes <immintrin.h> first).
#pragma once

// t[k][i] = x[i][k] for i, k < 8: pairs of inputs interleaved, then pairs of
// pairs, then 128-bit halves.
inline __attribute__((always_inline)) void Transpose8x8Regs(const __m256* x, __m256* t) {
  __m256 a[8], b[8];
  for (int i = 0; i < 8; i += 2) {
    a[i] = _mm256_unpacklo_ps(x[i], x[i + 1]);
    a[i + 1] = _mm256_unpackhi_ps(x[i], x[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    b[i] = _mm256_shuffle_ps(a[i], a[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    b[i + 1] = _mm256_shuffle_ps(a[i], a[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    b[i + 2] = _mm256_shuffle_ps(a[i + 1], a[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    b[i + 3] = _mm256_shuffle_ps(a[i + 1], a[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm256_permute2f128_ps(b[k], b[k + 4], 0x20);
    t[k + 4] = _mm256_permute2f128_ps(b[k], b[k + 4], 0x31);
  }
}
