#include "common/bit_count.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>

namespace fb {
namespace {

// The same as std::popcount: the edges, every single bit and its complement,
// and random words of every density.
TEST(BitCountTest, CountsAsStdPopcount) {
  EXPECT_EQ(BitCount(0), 0u);
  EXPECT_EQ(BitCount(~uint64_t{0}), 64u);
  for (int b = 0; b < 64; ++b) {
    EXPECT_EQ(BitCount(uint64_t{1} << b), 1u) << b;
    EXPECT_EQ(BitCount(~(uint64_t{1} << b)), 63u) << b;
  }
  std::mt19937_64 rng(7);
  for (int k = 0; k < 100000; ++k) {
    uint64_t x = rng();
    if (k % 3 == 1) x &= rng();  // sparser
    if (k % 3 == 2) x |= rng();  // denser
    ASSERT_EQ(BitCount(x), static_cast<uint32_t>(std::popcount(x))) << x;
  }
}

}  // namespace
}  // namespace fb
