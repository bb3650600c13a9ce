// AVX2 complete-tree kernel: 32 rows per vector, byte blends (vpblendvb).
// Everything in the target region (common/simd_target.h) is compiled for AVX2
// and has internal linkage but the kernel itself; the library headers come
// before it, so no inline library code is compiled for AVX2 by accident.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/simd_target.h"
#include "infer/complete_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

FB_TARGET_BEGIN("avx2")

namespace fb {
namespace {

#include "infer/avx_transpose.h"

struct Avx2Ops : AvxTranspose {
  static constexpr size_t kRows = 32;
  using Vec = __m256i;
  static Vec Load(const uint8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static void Store(uint8_t* p, Vec v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }
  static Vec Zero() { return _mm256_setzero_si256(); }
  static Vec Blend(Vec a, Vec b, Vec m) { return _mm256_blendv_epi8(a, b, m); }
  static Vec Step(Vec idx, Vec s) { return _mm256_sub_epi8(_mm256_add_epi8(idx, idx), s); }
  static Vec Twice(Vec idx) { return _mm256_add_epi8(idx, idx); }
  template <bool kNanRight>
  static Vec Test(const float* col, float threshold) {
    constexpr int kPredicate = kNanRight ? _CMP_NLE_UQ : _CMP_GT_OQ;
    const __m256 t = _mm256_set1_ps(threshold);
    const __m256i m0 = _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(col), t, kPredicate));
    const __m256i m1 = _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(col + 8), t, kPredicate));
    const __m256i m2 = _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(col + 16), t, kPredicate));
    const __m256i m3 = _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(col + 24), t, kPredicate));
    // Saturating packs keep 0 / -1; they interleave 128-bit lanes, so the
    // 4-row groups come out as 0, 2, 4, 6, 1, 3, 5, 7: put them back in order.
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(m0, m1), _mm256_packs_epi32(m2, m3));
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  }
  // The bit cascade: 256 rows a vector, blends as and-not / and / or.
  template <bool kNanRight>
  static uint64_t TestBits(const float* col, float threshold) {
    constexpr int kPredicate = kNanRight ? _CMP_NLE_UQ : _CMP_GT_OQ;
    const __m256 t = _mm256_set1_ps(threshold);
    uint64_t m = 0;
    for (int k = 0; k < 8; ++k)
      m |= uint64_t{static_cast<uint32_t>(
               _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(col + 8 * k), t, kPredicate)))}
           << (8 * k);
    return m;
  }
  static constexpr size_t kBitTileRows = 256;
  struct BitRows {
    __m256i v;
    static BitRows At(const uint8_t* ptab, uint16_t slot_offset) {
      // 32 bytes a slot against kCompleteTileRows in the stored offsets.
      static_assert(kCompleteTileRows == 4 * 32);
      return BitRows{_mm256_load_si256(reinterpret_cast<const __m256i*>(ptab + slot_offset / 4))};
    }
    static BitRows Blend(BitRows a, const BitRows& b, const BitRows& m) {
      return BitRows{_mm256_or_si256(_mm256_andnot_si256(m.v, a.v), _mm256_and_si256(m.v, b.v))};
    }
  };
  template <int D, bool kTwice>
  static void BitIndexes(const BitRows* s, uint8_t* out, size_t rows) {
    // A whole tile by a loop of constant count (unrolled: measured 10 %
    // faster for xgb-seed than the same loop of a variable count).
    if (rows >= kBitTileRows) return BitGroups<D, kTwice, true>(s, out, 8);
    BitGroups<D, kTwice, false>(s, out, (rows + 31) / 32);
  }
  template <int D, bool kTwice, bool kWhole>
  static inline __attribute__((always_inline)) void BitGroups(const BitRows* s, uint8_t* out, size_t n) {
    const size_t groups = kWhole ? 8 : n;
    alignas(32) uint32_t w[D > 0 ? D : 1][8];
    for (int l = 0; l < D; ++l) _mm256_store_si256(reinterpret_cast<__m256i*>(w[l]), s[l].v);
    // A plane's 32 bits of rows 32g .. 32g + 31 as bytes: each byte copied
    // to eight rows, then each row's own bit tested.
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                            2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201);
    for (size_t g = 0; g < groups; ++g) {
      __m256i idx = Zero();
      for (int l = 0; l < D; ++l) {
        const __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(w[l][g])), spread);
        idx = Step(idx, _mm256_cmpeq_epi8(_mm256_and_si256(b, bit), bit));
      }
      if constexpr (kTwice) idx = Twice(idx);
      Store(out + 32 * g, idx);
    }
  }
  // Branch-free binary search, 8 rows at a time: pos ends as the number
  // of table entries below x (the last entry is +inf, so at most 255).
  static void Rank(const float* col, const float* table, uint8_t* left, uint8_t* right) {
    __m256i lo[4], hi[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 x = _mm256_loadu_ps(col + 8 * k);
      __m256i pos = _mm256_setzero_si256();
      for (int step = 128; step >= 1; step >>= 1) {
        const __m256i at = _mm256_add_epi32(pos, _mm256_set1_epi32(step - 1));
        const __m256 t = _mm256_i32gather_ps(table, at, 4);
        const __m256i gt = _mm256_castps_si256(_mm256_cmp_ps(x, t, _CMP_GT_OQ));  // false for NaN
        pos = _mm256_add_epi32(pos, _mm256_and_si256(gt, _mm256_set1_epi32(step)));
      }
      const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
      lo[k] = pos;
      hi[k] = _mm256_or_si256(pos, _mm256_and_si256(nan, _mm256_set1_epi32(255)));
    }
    // Keys: ranks 0..255 as signed bytes (rank ^ 0x80) for vpcmpgtb.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), bias = _mm256_set1_epi8(-128);
    auto pack = [&](const __m256i* v) {
      const __m256i b = _mm256_packus_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
      return _mm256_xor_si256(_mm256_permutevar8x32_epi32(b, order), bias);
    };
    Store(left, pack(lo));
    Store(right, pack(hi));
  }
  static Vec RankTest(const uint8_t* keys, uint32_t rank) {
    return _mm256_cmpgt_epi8(Load(keys), _mm256_set1_epi8(static_cast<char>(rank ^ 0x80)));
  }
};

#include "infer/complete_kernel_impl.h"

}  // namespace

void CompleteKernelAvx2(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                        double* out, const float* margin_tabs) {
  CompleteImpl<Avx2Ops>::Run(cf, run, x, n_rows, out, margin_tabs);
}

}  // namespace fb

FB_TARGET_END()

#endif  // __x86_64__
