// AVX2 kernel: 8 rows per vector, a 64-row tile in 8 registers of leaf sets.
// Only the functions marked FB_AVX2 use AVX2, and they touch raw pointers
// only, so no inline library code is compiled for AVX2 by accident.
#include "infer/bitvector_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace fb {
namespace {

#define FB_AVX2 __attribute__((target("avx2,bmi")))

constexpr int kVecs = kTileRows / 8;

// a + b in double, or as a float32 addition when kF32 (a and b are then
// float32 values: rounding their exact sum to float32 is the float32 sum).
template <bool kF32>
FB_AVX2 inline __m256d AddSums(__m256d a, __m256d b) {
  const __m256d s = _mm256_add_pd(a, b);
  return kF32 ? _mm256_cvtps_pd(_mm256_cvtpd_ps(s)) : s;
}

template <bool kNan, bool kF32>
FB_AVX2 void Run(const BitvectorTree* trees, size_t count, const BitvectorNode* all_nodes,
                 const double* all_values, size_t w, const float* tile, double* acc) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i exp_mask = _mm256_set1_epi32(0xff);
  const __m256i bias = _mm256_set1_epi32(127);
  for (size_t t = 0; t < count; ++t) {
    const BitvectorTree& bt = trees[t];
    __m256i live[kVecs];
    for (int v = 0; v < kVecs; ++v) live[v] = _mm256_set1_epi32(-1);
    const BitvectorNode* nodes = all_nodes + bt.node_begin;
    for (uint32_t i = 0; i < bt.n_nodes; ++i) {
      const BitvectorNode& nd = nodes[i];
      const __m256 thr = _mm256_set1_ps(nd.threshold);
      const __m256i lm = _mm256_set1_epi32(static_cast<int>(nd.left_leaves));
      const float* col = tile + nd.column;
      if (!kNan || !nd.default_left) {
        // Right when not x <= t (NaN included).
#pragma GCC unroll 8
        for (int v = 0; v < kVecs; ++v) {
          __m256 right = _mm256_cmp_ps(_mm256_loadu_ps(col + 8 * v), thr, _CMP_NLE_UQ);
          live[v] = _mm256_andnot_si256(_mm256_and_si256(_mm256_castps_si256(right), lm), live[v]);
        }
      } else {
        // Right when x > t (NaN goes left).
#pragma GCC unroll 8
        for (int v = 0; v < kVecs; ++v) {
          __m256 right = _mm256_cmp_ps(_mm256_loadu_ps(col + 8 * v), thr, _CMP_GT_OQ);
          live[v] = _mm256_andnot_si256(_mm256_and_si256(_mm256_castps_si256(right), lm), live[v]);
        }
      }
    }
    const double* values = all_values + bt.value_begin;
    double* a = acc + (w == 1 ? static_cast<size_t>(bt.output) * kTileRows : 0);
#pragma GCC unroll 8
    for (int v = 0; v < kVecs; ++v) {
      // Index of the lowest set bit: isolate it, convert to float (exact for
      // a power of two; 1 << 31 becomes -2^31, same exponent), read the
      // exponent.
      __m256i low = _mm256_and_si256(live[v], _mm256_sub_epi32(zero, live[v]));
      __m256i bits = _mm256_castps_si256(_mm256_cvtepi32_ps(low));
      __m256i idx = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(bits, 23), exp_mask), bias);
      // Leaf values: width w doubles per leaf, gathered at idx * w + k.
      const __m256i iw = w == 1 ? idx : _mm256_mullo_epi32(idx, _mm256_set1_epi32(static_cast<int>(w)));
      const __m128i i0 = _mm256_castsi256_si128(iw), i1 = _mm256_extracti128_si256(iw, 1);
      for (size_t k = 0; k < w; ++k) {
        __m256d g0 = _mm256_i32gather_pd(values + k, i0, 8);
        __m256d g1 = _mm256_i32gather_pd(values + k, i1, 8);
        double* p = a + k * kTileRows + 8 * v;
        _mm256_storeu_pd(p, AddSums<kF32>(_mm256_loadu_pd(p), g0));
        _mm256_storeu_pd(p + 4, AddSums<kF32>(_mm256_loadu_pd(p + 4), g1));
      }
    }
  }
}

}  // namespace

void BitvectorKernelAvx2(const CompiledForest& cf, size_t first, size_t count, const float* tile,
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
