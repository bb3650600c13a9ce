// An 8x8 float32 transpose of strided rows into aligned columns, shared by the
// AVX2 and AVX-512 complete-tree kernels (their Ops::Transpose8x8; see
// complete_kernel_impl.h) over common/avx_transpose.h's network. Included
// inside each kernel's target region and anonymous namespace, like
// complete_kernel_impl.h, so it includes nothing but that header (which
// includes nothing): the including file includes <immintrin.h> and <cstddef>
// first.

#include "common/avx_transpose.h"

struct AvxTranspose {
  // dst[k * dst_stride + r] = src[r * src_stride + k] for r, k < 8; dst 32-byte aligned.
  static void Transpose8x8(const float* src, size_t src_stride, float* dst, size_t dst_stride) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
    Transpose8x8Regs(r, t);
    for (int k = 0; k < 8; ++k) _mm256_store_ps(dst + k * dst_stride, t[k]);
  }
};
