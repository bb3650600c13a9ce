// AVX-512 kernel: 16 rows per vector, a 64-row tile in 4 registers of leaf
// sets; a node costs one compare into a mask register and one masked and-not
// per vector. Only the functions marked FB_AVX512 use AVX-512, and they touch
// raw pointers only, so no inline library code is compiled for AVX-512 by
// accident. Needs AVX512F only.
#include "infer/bitvector_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace fb {
namespace {

#define FB_AVX512 __attribute__((target("avx512f,avx2,bmi")))

constexpr int kVecs = kTileRows / 16;

// a + b in double, or as a float32 addition when kF32 (a and b are then
// float32 values: rounding their exact sum to float32 is the float32 sum).
template <bool kF32>
FB_AVX512 inline __m512d AddSums(__m512d a, __m512d b) {
  const __m512d s = _mm512_add_pd(a, b);
  return kF32 ? _mm512_cvtps_pd(_mm512_cvtpd_ps(s)) : s;
}

template <bool kNan, bool kF32>
FB_AVX512 void Run(const BitvectorTree* trees, size_t count, const BitvectorNode* all_nodes,
                   const double* all_values, size_t w, const float* tile, double* acc) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i exp_mask = _mm512_set1_epi32(0xff);
  const __m512i bias = _mm512_set1_epi32(127);
  for (size_t t = 0; t < count; ++t) {
    const BitvectorTree& bt = trees[t];
    __m512i live[kVecs];
    for (int v = 0; v < kVecs; ++v) live[v] = _mm512_set1_epi32(-1);
    const BitvectorNode* nodes = all_nodes + bt.node_begin;
    for (uint32_t i = 0; i < bt.n_nodes; ++i) {
      const BitvectorNode& nd = nodes[i];
      const __m512 thr = _mm512_set1_ps(nd.threshold);
      const __m512i lm = _mm512_set1_epi32(static_cast<int>(nd.left_leaves));
      const float* col = tile + nd.column;
      if (!kNan || !nd.default_left) {
#pragma GCC unroll 4
        for (int v = 0; v < kVecs; ++v) {
          __mmask16 right = _mm512_cmp_ps_mask(_mm512_loadu_ps(col + 16 * v), thr, _CMP_NLE_UQ);
          live[v] = _mm512_mask_andnot_epi32(live[v], right, lm, live[v]);
        }
      } else {
#pragma GCC unroll 4
        for (int v = 0; v < kVecs; ++v) {
          __mmask16 right = _mm512_cmp_ps_mask(_mm512_loadu_ps(col + 16 * v), thr, _CMP_GT_OQ);
          live[v] = _mm512_mask_andnot_epi32(live[v], right, lm, live[v]);
        }
      }
    }
    const double* values = all_values + bt.value_begin;
    double* a = acc + (w == 1 ? static_cast<size_t>(bt.output) * kTileRows : 0);
#pragma GCC unroll 4
    for (int v = 0; v < kVecs; ++v) {
      // Lowest set bit's index via the float exponent (see the AVX2 kernel).
      __m512i low = _mm512_and_si512(live[v], _mm512_sub_epi32(zero, live[v]));
      __m512i bits = _mm512_castps_si512(_mm512_cvtepi32_ps(low));
      __m512i idx = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(bits, 23), exp_mask), bias);
      // Leaf values: width w doubles per leaf, gathered at idx * w + k.
      const __m512i iw = w == 1 ? idx : _mm512_mullo_epi32(idx, _mm512_set1_epi32(static_cast<int>(w)));
      const __m256i i0 = _mm512_castsi512_si256(iw), i1 = _mm512_extracti64x4_epi64(iw, 1);
      for (size_t k = 0; k < w; ++k) {
        __m512d g0 = _mm512_i32gather_pd(i0, values + k, 8);
        __m512d g1 = _mm512_i32gather_pd(i1, values + k, 8);
        double* p = a + k * kTileRows + 16 * v;
        _mm512_storeu_pd(p, AddSums<kF32>(_mm512_loadu_pd(p), g0));
        _mm512_storeu_pd(p + 8, AddSums<kF32>(_mm512_loadu_pd(p + 8), g1));
      }
    }
  }
}

}  // namespace

void BitvectorKernelAvx512(const CompiledForest& cf, size_t first, size_t count, const float* tile,
                           bool has_nan, double* acc) {
  if (count == 0) return;
  const BitvectorTree* trees = cf.bv_trees.data() + first;
  const size_t w = static_cast<size_t>(cf.leaf_width);
  if (cf.float32_sums) {
    if (has_nan) {
      Run<true, true>(trees, count, cf.bv_nodes.data(), cf.bv_values.data(), w, tile, acc);
    } else {
      Run<false, true>(trees, count, cf.bv_nodes.data(), cf.bv_values.data(), w, tile, acc);
    }
  } else if (has_nan) {
    Run<true, false>(trees, count, cf.bv_nodes.data(), cf.bv_values.data(), w, tile, acc);
  } else {
    Run<false, false>(trees, count, cf.bv_nodes.data(), cf.bv_values.data(), w, tile, acc);
  }
}

}  // namespace fb

#endif  // __x86_64__
