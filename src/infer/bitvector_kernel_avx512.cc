// AVX-512 bitvector kernel: 16 rows per vector, a 64-row tile in 4 registers
// of leaf sets; a node costs one compare into a mask register and one masked
// and-not per vector. Needs AVX512F only. Everything in the target region
// (common/simd_target.h) is compiled for AVX-512 and has internal linkage but
// the body BitvectorKernelFor calls; the library headers come before it, so
// no inline library code is compiled for AVX-512 by accident.
#include <cstddef>
#include <cstdint>

#include "common/simd_target.h"
#include "infer/bitvector_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

FB_TARGET_BEGIN("avx512f,avx2,bmi")

namespace fb {
namespace {

struct Avx512Ops {
  static constexpr int kLanes = 16;
  using Live = __m512i;
  static Live AllLeaves() { return _mm512_set1_epi32(-1); }
  template <bool kNanRight>
  static Live ClearIfRight(Live live, const float* col, float threshold, uint32_t left_leaves) {
    constexpr int kPredicate = kNanRight ? _CMP_NLE_UQ : _CMP_GT_OQ;
    const __mmask16 right = _mm512_cmp_ps_mask(_mm512_loadu_ps(col), _mm512_set1_ps(threshold), kPredicate);
    const __m512i lm = _mm512_set1_epi32(static_cast<int>(left_leaves));
    return _mm512_mask_andnot_epi32(live, right, lm, live);
  }
  // Lowest set bit's index via the float exponent (see the AVX2 kernel).
  static Live LowestLeaf(Live live) {
    const __m512i low = _mm512_and_si512(live, _mm512_sub_epi32(_mm512_setzero_si512(), live));
    const __m512i bits = _mm512_castps_si512(_mm512_cvtepi32_ps(low));
    return _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(0xff)),
                            _mm512_set1_epi32(127));
  }
  // a + b in double, or as a float32 addition when kF32 (a and b are then
  // float32 values: rounding their exact sum to float32 is the float32 sum).
  template <bool kF32>
  static __m512d AddSums(__m512d a, __m512d b) {
    const __m512d s = _mm512_add_pd(a, b);
    return kF32 ? _mm512_cvtps_pd(_mm512_cvtpd_ps(s)) : s;
  }
  template <bool kF32>
  static void AddLeaves(Live leaf, const double* values, size_t w, double* acc) {
    const __m512i iw = w == 1 ? leaf : _mm512_mullo_epi32(leaf, _mm512_set1_epi32(static_cast<int>(w)));
    const __m256i i0 = _mm512_castsi512_si256(iw), i1 = _mm512_extracti64x4_epi64(iw, 1);
    for (size_t k = 0; k < w; ++k) {
      const __m512d g0 = _mm512_i32gather_pd(i0, values + k, 8);
      const __m512d g1 = _mm512_i32gather_pd(i1, values + k, 8);
      double* p = acc + k * kTileRows;
      _mm512_storeu_pd(p, AddSums<kF32>(_mm512_loadu_pd(p), g0));
      _mm512_storeu_pd(p + 8, AddSums<kF32>(_mm512_loadu_pd(p + 8), g1));
    }
  }
};

#include "infer/bitvector_kernel_impl.h"

}  // namespace

void BitvectorBodyAvx512(const BitvectorTree* trees, size_t count, const BitvectorNode* nodes,
                         const double* values, size_t w, bool float32_sums, const float* tile, bool has_nan,
                         double* acc) {
  BitvectorImpl<Avx512Ops>::Kernel(trees, count, nodes, values, w, float32_sums, tile, has_nan, acc);
}

}  // namespace fb

FB_TARGET_END()

#endif  // __x86_64__
