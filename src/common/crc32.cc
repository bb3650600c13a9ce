#include "common/crc32.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>

#include "common/simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fb {

uint32_t Crc32Zlib(std::string_view b, uint32_t crc) {
  uLong c = crc;
  // zlib takes uInt lengths: feed large inputs in pieces.
  while (!b.empty()) {
    size_t n = std::min<size_t>(b.size(), size_t{1} << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(n));
    b.remove_prefix(n);
  }
  return static_cast<uint32_t>(c);
}

#if defined(__x86_64__)
namespace {

// Folds len bytes (len >= 64, a multiple of 16) into the running CRC state
// `crc` (the register, i.e. zlib's value complemented) and returns the new
// state. Bit-reflected constants: x^(4*128+32) mod P and x^(4*128-32) mod P
// (fold by 64 bytes), x^(128+32) and x^(128-32) (fold by 16), x^64 mod P,
// then Barrett reduction by P and mu = floor(x^64 / P).
__attribute__((target("pclmul,sse4.1"))) uint32_t FoldPclmul(const unsigned char* buf, size_t len,
                                                             uint32_t crc) {
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
  const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124);
  const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
  const __m128i* p = reinterpret_cast<const __m128i*>(buf);
  __m128i x1 = _mm_loadu_si128(p + 0), x2 = _mm_loadu_si128(p + 1), x3 = _mm_loadu_si128(p + 2),
          x4 = _mm_loadu_si128(p + 3);
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128(static_cast<int>(crc)));
  p += 4;
  len -= 64;
  __m128i k = k1k2;
  while (len >= 64) {
    __m128i x5 = _mm_clmulepi64_si128(x1, k, 0x00), x6 = _mm_clmulepi64_si128(x2, k, 0x00),
            x7 = _mm_clmulepi64_si128(x3, k, 0x00), x8 = _mm_clmulepi64_si128(x4, k, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k, 0x11);
    x2 = _mm_clmulepi64_si128(x2, k, 0x11);
    x3 = _mm_clmulepi64_si128(x3, k, 0x11);
    x4 = _mm_clmulepi64_si128(x4, k, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128(p + 0));
    x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128(p + 1));
    x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128(p + 2));
    x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128(p + 3));
    p += 4;
    len -= 64;
  }
  // Four lanes into one.
  k = k3k4;
  for (__m128i next : {x2, x3, x4}) {
    __m128i x5 = _mm_clmulepi64_si128(x1, k, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, next), x5);
  }
  while (len >= 16) {
    __m128i x5 = _mm_clmulepi64_si128(x1, k, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, _mm_loadu_si128(p)), x5);
    ++p;
    len -= 16;
  }
  // 128 bits to 64, then Barrett reduction to 32.
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  __m128i x2b = _mm_clmulepi64_si128(x1, k, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2b);
  x2b = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask32);
  x1 = _mm_clmulepi64_si128(x1, k5k0, 0x00);
  x1 = _mm_xor_si128(x1, x2b);
  x2b = _mm_and_si128(x1, mask32);
  x2b = _mm_clmulepi64_si128(x2b, poly, 0x10);
  x2b = _mm_and_si128(x2b, mask32);
  x2b = _mm_clmulepi64_si128(x2b, poly, 0x00);
  x1 = _mm_xor_si128(x1, x2b);
  return static_cast<uint32_t>(_mm_extract_epi32(x1, 1));
}

bool HavePclmul() {
  static const bool have = CpuHas(CpuFeature::kPclmul) && CpuHas(CpuFeature::kSse41);
  return have;
}

}  // namespace
#endif

uint32_t Crc32(std::string_view b, uint32_t crc) {
#if defined(__x86_64__)
  if (b.size() >= 64 && HavePclmul()) {
    const size_t bulk = b.size() & ~size_t{15};
    crc = ~FoldPclmul(reinterpret_cast<const unsigned char*>(b.data()), bulk, ~crc);
    b.remove_prefix(bulk);
  }
#endif
  return Crc32Zlib(b, crc);
}

}  // namespace fb
