// Portable complete-tree kernel: row bytes in 64-bit words (8 rows a word),
// blends as bit selects; the compiler may use the baseline SSE2.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "infer/complete_kernels.h"

namespace fb {
namespace {

struct PortableOps {
  static constexpr size_t kRows = 32;
  struct Vec {
    uint64_t w[4];
  };
  static constexpr uint64_t kOnes = 0x0101010101010101ull;

  static Vec Load(const uint8_t* p) {
    Vec v;
    std::memcpy(v.w, p, 32);
    return v;
  }
  static void Store(uint8_t* p, Vec v) { std::memcpy(p, v.w, 32); }
  static Vec Zero() { return Vec{{0, 0, 0, 0}}; }
  static Vec Blend(Vec a, Vec b, Vec m) {
    for (int i = 0; i < 4; ++i) a.w[i] = (a.w[i] & ~m.w[i]) | (b.w[i] & m.w[i]);
    return a;
  }
  // Bytes below 128 never carry into their neighbour when doubled.
  static Vec Step(Vec idx, Vec s) {
    for (int i = 0; i < 4; ++i) idx.w[i] = (idx.w[i] << 1) + (s.w[i] & kOnes);
    return idx;
  }
  static Vec Twice(Vec idx) {
    for (int i = 0; i < 4; ++i) idx.w[i] <<= 1;
    return idx;
  }
  template <bool kNanRight>
  static Vec Test(const float* col, float t) {
    uint8_t b[32];
    for (int r = 0; r < 32; ++r) {
      const bool right = kNanRight ? !(col[r] <= t) : col[r] > t;
      b[r] = static_cast<uint8_t>(0u - static_cast<unsigned>(right));
    }
    return Load(b);
  }
  static void Rank(const float* col, const float* table, uint8_t* left, uint8_t* right) {
    for (int r = 0; r < 32; ++r) {
      // Entries below col[r]; none for NaN (every comparison is false).
      const size_t k = static_cast<size_t>(std::lower_bound(table, table + kRankTableSize, col[r]) - table);
      left[r] = static_cast<uint8_t>(k);
      right[r] = col[r] != col[r] ? 255 : static_cast<uint8_t>(k);
    }
  }
  static Vec RankTest(const uint8_t* keys, uint32_t rank) {
    uint8_t b[32];
    for (int r = 0; r < 32; ++r) b[r] = keys[r] > rank ? 0xFF : 0;
    return Load(b);
  }
  static void Transpose8x8(const float* src, size_t src_stride, float* dst, size_t dst_stride) {
    for (size_t r = 0; r < 8; ++r)
      for (size_t k = 0; k < 8; ++k) dst[k * dst_stride + r] = src[r * src_stride + k];
  }
};

#include "infer/complete_kernel_impl.h"

}  // namespace

void CompleteKernelPortable(const CompiledForest& cf, const TreeRun& run, const float* x, size_t n_rows,
                            double* out, const float* margin_tabs) {
  CompleteImpl<PortableOps>::Run(cf, run, x, n_rows, out, margin_tabs);
}

CompleteKernel CompleteKernelFor(SimdTarget target) {
#if defined(__x86_64__)
  // The AVX-512 kernel needs AVX512BW (byte blends and compares) beyond the
  // AVX512F that SimdTarget::kAvx512 stands for; without it, AVX2.
  if (target == SimdTarget::kAvx512 && CompleteAvx512Supported()) return CompleteKernelAvx512;
  if (target == SimdTarget::kAvx2 || target == SimdTarget::kAvx512) return CompleteKernelAvx2;
#endif
  (void)target;
  return CompleteKernelPortable;
}

bool CompleteKernelHasLabelMargins(SimdTarget target) {
#if defined(__x86_64__)
  return CompleteKernelFor(target) == CompleteKernelAvx512;
#else
  (void)target;
  return false;
#endif
}

}  // namespace fb
