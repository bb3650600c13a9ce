// BitCount: the set bits of a 64-bit word, in registers. Baseline x86-64 (the
// build never assumes more) has no POPCNT instruction, so std::popcount
// compiles to a call into libgcc; the loops that count bits of SIMD masks
// once a block (the XGBoost JSON reader's block check, the training binner's
// lookups) use this instead.
#pragma once

#include <cstdint>

namespace fb {

inline uint32_t BitCount(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555u);
  x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
  return static_cast<uint32_t>((x * 0x0101010101010101u) >> 56);
}

}  // namespace fb
