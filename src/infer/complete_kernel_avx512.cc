// AVX-512 complete-tree kernel: unranked runs by the bit cascade (predicates
// as bits, 512 rows per vpternlogq blend, leaf indexes by masked byte adds);
// ranked runs 64 rows per vector, byte blends under mask registers
// (vpblendmb), tests packed from mask registers (vpmovm2b). Needs AVX512F and
// AVX512BW. Everything in the target region (common/simd_target.h)
// is compiled for AVX-512 and has internal linkage but the kernel itself; the
// library headers come before it, so no inline library code is compiled for
// AVX-512 by accident.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/simd_target.h"
#include "infer/complete_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace fb {

bool CompleteAvx512Supported() {
  return SimdTargetSupported(SimdTarget::kAvx512) && CpuHas(CpuFeature::kAvx512bw);
}

}  // namespace fb

FB_TARGET_BEGIN("avx512f,avx512bw,avx2,bmi")

namespace fb {
namespace {

#include "infer/avx_transpose.h"

struct Avx512Ops : AvxTranspose {
  static constexpr size_t kRows = 64;
  using Vec = __m512i;
  static Vec Load(const uint8_t* p) { return _mm512_load_si512(p); }
  static void Store(uint8_t* p, Vec v) { _mm512_store_si512(p, v); }
  static Vec Zero() { return _mm512_setzero_si512(); }
  // m's bytes are 0x00 or 0xFF: their top bits are the mask.
  static Vec Blend(Vec a, Vec b, Vec m) { return _mm512_mask_blend_epi8(_mm512_movepi8_mask(m), a, b); }
  static Vec Step(Vec idx, Vec s) { return _mm512_sub_epi8(_mm512_add_epi8(idx, idx), s); }
  static Vec Twice(Vec idx) { return _mm512_add_epi8(idx, idx); }
  template <bool kNanRight>
  static uint64_t TestBits(const float* col, float threshold) {
    constexpr int kPredicate = kNanRight ? _CMP_NLE_UQ : _CMP_GT_OQ;
    const __m512 t = _mm512_set1_ps(threshold);
    uint64_t m = 0;
    for (int k = 0; k < 4; ++k)
      m |= uint64_t{_mm512_cmp_ps_mask(_mm512_loadu_ps(col + 16 * k), t, kPredicate)} << (16 * k);
    return m;
  }
  template <bool kNanRight>
  static Vec Test(const float* col, float threshold) {
    return _mm512_movm_epi8(_cvtu64_mask64(TestBits<kNanRight>(col, threshold)));
  }
  // The bit cascade: 512 rows a vector, blends by vpternlogq.
  static constexpr size_t kBitTileRows = 512;
  struct BitRows {
    __m512i v;
    static BitRows At(const uint8_t* ptab, uint16_t slot_offset) {
      // 64 bytes a slot against kCompleteTileRows in the stored offsets.
      static_assert(kCompleteTileRows == 2 * 64);
      return BitRows{_mm512_load_si512(ptab + slot_offset / 2)};
    }
    static BitRows Blend(BitRows a, const BitRows& b, const BitRows& m) {
      return BitRows{_mm512_ternarylogic_epi64(m.v, b.v, a.v, 0xCA)};  // m ? b : a
    }
  };
  template <int D, bool kTwice>
  static void BitIndexes(const BitRows* s, uint8_t* out, size_t rows) {
    // A whole tile by a loop of constant count (unrolled), as before tiles
    // could end early.
    if (rows >= kBitTileRows) return BitGroups<D, kTwice, true>(s, out, 8);
    BitGroups<D, kTwice, false>(s, out, (rows + 63) / 64);
  }
  template <int D, bool kTwice, bool kWhole>
  static inline __attribute__((always_inline)) void BitGroups(const BitRows* s, uint8_t* out, size_t n) {
    const size_t groups = kWhole ? 8 : n;
    alignas(64) uint64_t w[D > 0 ? D : 1][8];
    for (int l = 0; l < D; ++l) _mm512_store_si512(w[l], s[l].v);
    for (size_t i = 0; i < groups; ++i) {
      __m512i idx = _mm512_setzero_si512();
      for (int l = 0; l < D; ++l)
        idx = _mm512_mask_add_epi8(idx, _cvtu64_mask64(w[l][i]), idx,
                                   _mm512_set1_epi8(static_cast<char>(1 << (D - 1 - l + (kTwice ? 1 : 0)))));
      Store(out + 64 * i, idx);
    }
  }
  // Branch-free binary search, 16 rows at a time: pos ends as the number
  // of table entries below x (the last entry is +inf, so at most 255).
  static void Rank(const float* col, const float* table, uint8_t* left, uint8_t* right) {
    __m128i lo[4], hi[4];
    for (int k = 0; k < 4; ++k) {
      const __m512 x = _mm512_loadu_ps(col + 16 * k);
      __m512i pos = _mm512_setzero_si512();
      for (int step = 128; step >= 1; step >>= 1) {
        const __m512i at = _mm512_add_epi32(pos, _mm512_set1_epi32(step - 1));
        const __m512 t = _mm512_i32gather_ps(at, table, 4);
        const __mmask16 gt = _mm512_cmp_ps_mask(x, t, _CMP_GT_OQ);  // false for NaN
        pos = _mm512_mask_add_epi32(pos, gt, pos, _mm512_set1_epi32(step));
      }
      const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
      lo[k] = _mm512_cvtepi32_epi8(pos);
      hi[k] = _mm512_cvtepi32_epi8(_mm512_mask_mov_epi32(pos, nan, _mm512_set1_epi32(255)));
    }
    // Keys: ranks 0..255 as signed bytes (rank ^ 0x80) for signed byte compares.
    const __m512i bias = _mm512_set1_epi8(-128);
    auto join = [&](const __m128i* v) {
      __m512i b = _mm512_castsi128_si512(v[0]);
      b = _mm512_inserti32x4(b, v[1], 1);
      b = _mm512_inserti32x4(b, v[2], 2);
      b = _mm512_inserti32x4(b, v[3], 3);
      return _mm512_xor_si512(b, bias);
    };
    Store(left, join(lo));
    Store(right, join(hi));
  }
  // Leaf values looked up in registers, 16 rows a vector: a tree's 64
  // float32 leaves are four vectors, two vpermt2ps pick among 32 each by
  // the index's low five bits and its sixth bit picks between them; then one
  // vaddps adds them to 16 rows' sums. Blocks of 64 rows (four sums in
  // registers) through every tree of the chunk.
  static size_t AddSingleFloat(const float* tabs, size_t nt, const uint8_t* idx, size_t stride, double* out,
                               size_t m) {
    constexpr size_t kBlock = 64;
    const __m512i high = _mm512_set1_epi32(32);
    size_t r = 0;
    for (; r + kBlock <= m; r += kBlock) {
      __m512 a[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 lo = _mm512_cvtpd_ps(_mm512_loadu_pd(out + r + 16 * k));
        const __m256 hi = _mm512_cvtpd_ps(_mm512_loadu_pd(out + r + 16 * k + 8));
        // (no AVX512DQ: the halves joined as doubles' bits)
        a[k] = _mm512_castpd_ps(
            _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
      }
      for (size_t t = 0; t < nt; ++t) {
        const float* tab = tabs + t * 64;
        const __m512 t0 = _mm512_load_ps(tab), t1 = _mm512_load_ps(tab + 16);
        const __m512 t2 = _mm512_load_ps(tab + 32), t3 = _mm512_load_ps(tab + 48);
        const uint8_t* ix = idx + t * stride + r;
        for (int k = 0; k < 4; ++k) {
          const __m512i i =
              _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ix + 16 * k)));
          const __m512 lo = _mm512_permutex2var_ps(t0, i, t1);
          const __m512 hi = _mm512_permutex2var_ps(t2, i, t3);
          a[k] = _mm512_add_ps(a[k], _mm512_mask_blend_ps(_mm512_test_epi32_mask(i, high), lo, hi));
        }
      }
      for (int k = 0; k < 4; ++k) {
        _mm512_storeu_pd(out + r + 16 * k, _mm512_cvtps_pd(_mm512_castps512_ps256(a[k])));
        _mm512_storeu_pd(
            out + r + 16 * k + 8,
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[k]), 1))));
      }
    }
    return r;
  }
  // Pairs of double sums looked up in registers, 8 rows a vector: a tree's
  // 32 leaves are four vectors per output; two vpermt2pd pick among 16 each
  // by the leaf index's low four bits and its fifth bit picks between them;
  // then one vaddpd adds them to 8 rows' sums. Blocks of kPairBlock rows
  // (their sums in registers, by output) through every tree of the chunk;
  // out[] (the two sums of a row side by side) is read and written once a
  // block. The same additions in the same order as AddPairs.
  static constexpr size_t kPairBlock = 32;
  static size_t AddPairsDouble(const double* tabs, size_t nt, const uint8_t* idx, size_t stride, double* out,
                               size_t m) {
    constexpr int kV = kPairBlock / 8;
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    const __m512i first = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i second = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    const __m512i high = _mm512_set1_epi64(16);
    const __m512i bytes = _mm512_setr_epi64(0, 8, 16, 24, 32, 40, 48, 56);
    size_t r = 0;
    for (; r + kPairBlock <= m; r += kPairBlock) {
      __m512d a0[kV], a1[kV];
      for (int k = 0; k < kV; ++k) {
        const __m512d x = _mm512_loadu_pd(out + 2 * (r + 8 * k));
        const __m512d y = _mm512_loadu_pd(out + 2 * (r + 8 * k) + 8);
        a0[k] = _mm512_permutex2var_pd(x, even, y);
        a1[k] = _mm512_permutex2var_pd(x, odd, y);
      }
      for (size_t t = 0; t < nt; ++t) {
        const double* tab = tabs + t * 64;
        __m512d v[8];
        for (int j = 0; j < 8; ++j) v[j] = _mm512_load_pd(tab + 8 * j);
        const uint8_t* ix = idx + t * stride + r;
        for (int k = 0; k < kV; ++k) {
          // Row j's index in lane j's low byte (vpermt2pd reads four bits,
          // the test one more): a broadcast load and shifts, no shuffle.
          uint64_t w;
          std::memcpy(&w, ix + 8 * k, 8);
          const __m512i i = _mm512_srlv_epi64(_mm512_set1_epi64(static_cast<long long>(w)), bytes);
          const __mmask8 h = _mm512_test_epi64_mask(i, high);
          const __m512d lo0 = _mm512_permutex2var_pd(v[0], i, v[1]);
          const __m512d hi0 = _mm512_permutex2var_pd(v[2], i, v[3]);
          const __m512d lo1 = _mm512_permutex2var_pd(v[4], i, v[5]);
          const __m512d hi1 = _mm512_permutex2var_pd(v[6], i, v[7]);
          a0[k] = _mm512_add_pd(a0[k], _mm512_mask_blend_pd(h, lo0, hi0));
          a1[k] = _mm512_add_pd(a1[k], _mm512_mask_blend_pd(h, lo1, hi1));
        }
      }
      for (int k = 0; k < kV; ++k) {
        _mm512_storeu_pd(out + 2 * (r + 8 * k), _mm512_permutex2var_pd(a0[k], first, a1[k]));
        _mm512_storeu_pd(out + 2 * (r + 8 * k) + 8, _mm512_permutex2var_pd(a0[k], second, a1[k]));
      }
    }
    return r;
  }
  static Vec RankTest(const uint8_t* keys, uint32_t rank) {
    const __mmask64 gt = _mm512_cmpgt_epi8_mask(Load(keys), _mm512_set1_epi8(static_cast<char>(rank ^ 0x80)));
    return _mm512_movm_epi8(gt);
  }
};

#include "infer/complete_kernel_impl.h"

}  // namespace

void CompleteKernelAvx512(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                          double* out, const float* margin_tabs) {
  CompleteImpl<Avx512Ops>::Run(cf, run, x, n_rows, out, margin_tabs);
}

}  // namespace fb

FB_TARGET_END()

#endif  // __x86_64__
