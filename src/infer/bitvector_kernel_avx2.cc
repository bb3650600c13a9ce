// AVX2 bitvector kernel: 8 rows per vector, a 64-row tile in 8 registers of
// leaf sets; a node costs one compare, one and and one and-not per vector.
// Everything in the target region (common/simd_target.h) is compiled for AVX2
// and has internal linkage but the body BitvectorKernelFor calls; the library
// headers come before it, so no inline library code is compiled for AVX2 by
// accident.
#include <cstddef>
#include <cstdint>

#include "common/simd_target.h"
#include "infer/bitvector_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

FB_TARGET_BEGIN("avx2,bmi")

namespace fb {
namespace {

struct Avx2Ops {
  static constexpr int kLanes = 8;
  using Live = __m256i;
  static Live AllLeaves() { return _mm256_set1_epi32(-1); }
  template <bool kNanRight>
  static Live ClearIfRight(Live live, const float* col, float threshold, uint32_t left_leaves) {
    constexpr int kPredicate = kNanRight ? _CMP_NLE_UQ : _CMP_GT_OQ;
    const __m256 right = _mm256_cmp_ps(_mm256_loadu_ps(col), _mm256_set1_ps(threshold), kPredicate);
    const __m256i lm = _mm256_set1_epi32(static_cast<int>(left_leaves));
    return _mm256_andnot_si256(_mm256_and_si256(_mm256_castps_si256(right), lm), live);
  }
  // Index of the lowest set bit: isolate it, convert to float (exact for a
  // power of two; 1 << 31 becomes -2^31, same exponent), read the exponent.
  static Live LowestLeaf(Live live) {
    const __m256i low = _mm256_and_si256(live, _mm256_sub_epi32(_mm256_setzero_si256(), live));
    const __m256i bits = _mm256_castps_si256(_mm256_cvtepi32_ps(low));
    return _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xff)),
                            _mm256_set1_epi32(127));
  }
  // a + b in double, or as a float32 addition when kF32 (a and b are then
  // float32 values: rounding their exact sum to float32 is the float32 sum).
  template <bool kF32>
  static __m256d AddSums(__m256d a, __m256d b) {
    const __m256d s = _mm256_add_pd(a, b);
    return kF32 ? _mm256_cvtps_pd(_mm256_cvtpd_ps(s)) : s;
  }
  template <bool kF32>
  static void AddLeaves(Live leaf, const double* values, size_t w, double* acc) {
    const __m256i iw = w == 1 ? leaf : _mm256_mullo_epi32(leaf, _mm256_set1_epi32(static_cast<int>(w)));
    const __m128i i0 = _mm256_castsi256_si128(iw), i1 = _mm256_extracti128_si256(iw, 1);
    for (size_t k = 0; k < w; ++k) {
      const __m256d g0 = _mm256_i32gather_pd(values + k, i0, 8);
      const __m256d g1 = _mm256_i32gather_pd(values + k, i1, 8);
      double* p = acc + k * kTileRows;
      _mm256_storeu_pd(p, AddSums<kF32>(_mm256_loadu_pd(p), g0));
      _mm256_storeu_pd(p + 4, AddSums<kF32>(_mm256_loadu_pd(p + 4), g1));
    }
  }
};

#include "infer/bitvector_kernel_impl.h"

}  // namespace

void BitvectorBodyAvx2(const BitvectorTree* trees, size_t count, const BitvectorNode* nodes,
                       const double* values, size_t w, bool float32_sums, const float* tile, bool has_nan,
                       double* acc) {
  BitvectorImpl<Avx2Ops>::Kernel(trees, count, nodes, values, w, float32_sums, tile, has_nan, acc);
}

}  // namespace fb

FB_TARGET_END()

#endif  // __x86_64__
