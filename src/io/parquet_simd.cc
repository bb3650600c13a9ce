// The portable set of the Parquet reader's kernels (the compiler may use the
// baseline SSE2) and the choice of a set; the AVX2 and AVX-512 sets are in
// parquet_simd_avx2.cc and parquet_simd_avx512.cc.
#include "io/parquet_simd.h"

#include <cstring>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "io/parquet_simd_targets.h"

namespace fb {

namespace {

template <int BW>
bool UnpackLookupBW(const uint8_t* p, uint64_t groups, const float* dict, float* out, uint32_t limit) {
  // The group's even and odd indices each in a field of 2 x BW bits, plus
  // 2^BW - limit: a field carries into bit BW exactly when its index is
  // `limit` or more, eight indices at a time.
  constexpr uint64_t kMask = (uint64_t{1} << BW) - 1;
  constexpr uint64_t kEven = kMask | kMask << (2 * BW) | kMask << (4 * BW) | kMask << (6 * BW);
  constexpr uint64_t kCarry =
      uint64_t{1} << BW | uint64_t{1} << (3 * BW) | uint64_t{1} << (5 * BW) | uint64_t{1} << (7 * BW);
  const bool check = limit <= kMask;
  const uint64_t c = kMask + 1 - limit;
  const uint64_t add = c | c << (2 * BW) | c << (4 * BW) | c << (6 * BW);
  uint64_t bad = 0;
  for (uint64_t g = 0; g < groups; ++g, p += BW, out += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (check) bad |= (((w & kEven) + add) | (((w >> BW) & kEven) + add)) & kCarry;
    for (int j = 0; j < 8; ++j) out[j] = dict[(w >> (j * BW)) & kMask];
  }
  return bad != 0;
}

}  // namespace

namespace parquet_simd {

bool UnpackLookupPortable(int bw, const uint8_t* p, uint64_t groups, const float* dict, float* out,
                          uint32_t limit) {
  return ForBitWidth(bw,
                     [&](auto w) { return UnpackLookupBW<decltype(w)::value>(p, groups, dict, out, limit); });
}

void TransposeRows(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t r0, size_t r1,
                   float* out, size_t nf) {
  for (size_t r = r0; r < r1; ++r) {
    float* row = out + r * nf;
    for (size_t k = 0; k < n_runs; ++k)
      for (uint32_t i = 0; i < runs[k].width; ++i) row[runs[k].feature + i] = cols[runs[k].slot + i][r];
  }
}

void PrefetchBand(float* out, size_t nf, size_t r, size_t rows, size_t end) {
  if (r + rows > end) return;
  const char* band = reinterpret_cast<const char*>(out + r * nf);
  for (size_t l = 0; l < rows * nf * sizeof(float); l += 64) __builtin_prefetch(band + l, 1);
}

void TransposePortable(const float* const* cols, const TransposeRun* runs, size_t n_runs, size_t n,
                       float* out, size_t nf, size_t rows_after) {
  size_t r = 0;
  for (; r + 4 <= n; r += 4) {
    PrefetchBand(out, nf, r + kPrefetchRows, 4, n + rows_after);
    float* row = out + r * nf;
    for (size_t k = 0; k < n_runs; ++k) {
      const TransposeRun& run = runs[k];
      uint32_t i = 0;
#if defined(__SSE2__)
      for (; i + 4 <= run.width; i += 4) {
        const float* const* c = cols + run.slot + i;
        __m128 a = _mm_loadu_ps(c[0] + r), b = _mm_loadu_ps(c[1] + r), d = _mm_loadu_ps(c[2] + r),
               e = _mm_loadu_ps(c[3] + r);
        _MM_TRANSPOSE4_PS(a, b, d, e);
        float* o = row + run.feature + i;
        _mm_storeu_ps(o, a);
        _mm_storeu_ps(o + nf, b);
        _mm_storeu_ps(o + 2 * nf, d);
        _mm_storeu_ps(o + 3 * nf, e);
      }
#endif
      for (; i < run.width; ++i) {
        const float* c = cols[run.slot + i] + r;
        float* o = row + run.feature + i;
        o[0] = c[0];
        o[nf] = c[1];
        o[2 * nf] = c[2];
        o[3 * nf] = c[3];
      }
    }
  }
  TransposeRows(cols, runs, n_runs, r, n, out, nf);
}

}  // namespace parquet_simd

const ParquetKernels& ParquetKernelsFor(SimdTarget target) {
  static const ParquetKernels kPortable{SimdTarget::kScalar, parquet_simd::TransposePortable,
                                        parquet_simd::UnpackLookupPortable};
#if defined(__x86_64__)
  static const ParquetKernels kAvx2{SimdTarget::kAvx2, parquet_simd::TransposeAvx2,
                                    parquet_simd::UnpackLookupAvx2};
  static const ParquetKernels kAvx512{SimdTarget::kAvx512, parquet_simd::TransposeAvx512,
                                      parquet_simd::UnpackLookupAvx512};
  if (target == SimdTarget::kAvx512 && SimdTargetSupported(SimdTarget::kAvx512)) return kAvx512;
  if (target >= SimdTarget::kAvx2 && SimdTargetSupported(SimdTarget::kAvx2)) return kAvx2;
#else
  (void)target;
#endif
  return kPortable;
}

const ParquetKernels& ChosenParquetKernels() {
  static const ParquetKernels& chosen = ParquetKernelsFor(ChosenSimdTarget());
  return chosen;
}

}  // namespace fb
