// An 8x8 float32 transpose in AVX registers, shared by the AVX2 and AVX-512
// complete-tree kernels (their Ops::Transpose8x8; see complete_kernel_impl.h).
// Included inside each kernel's target region and anonymous namespace, like
// complete_kernel_impl.h, so it includes nothing: the including file includes
// <immintrin.h> and <cstddef> first.

struct AvxTranspose {
  // dst[k * dst_stride + r] = src[r * src_stride + k] for r, k < 8; dst 32-byte aligned.
  static void Transpose8x8(const float* src, size_t src_stride, float* dst, size_t dst_stride) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
    // Pairs of rows interleaved, then pairs of pairs, then 128-bit halves.
    __m256 a[8], b[8];
    for (int i = 0; i < 8; i += 2) {
      a[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      a[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      b[i] = _mm256_shuffle_ps(a[i], a[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      b[i + 1] = _mm256_shuffle_ps(a[i], a[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      b[i + 2] = _mm256_shuffle_ps(a[i + 1], a[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      b[i + 3] = _mm256_shuffle_ps(a[i + 1], a[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; ++k) {
      _mm256_store_ps(dst + k * dst_stride, _mm256_permute2f128_ps(b[k], b[k + 4], 0x20));
      _mm256_store_ps(dst + (k + 4) * dst_stride, _mm256_permute2f128_ps(b[k], b[k + 4], 0x31));
    }
  }
};
