#include "common/random.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/atomic_file.h"

namespace fb {
namespace {

TEST(Random, BitsDifferFromCallToCall) {
  std::set<uint64_t> seen;
  int high = 0, low = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = RandomBits();
    seen.insert(v);
    high += (v >> 63) & 1;
    low += v & 1;
  }
  EXPECT_EQ(seen.size(), 1000u);  // a repeat among 1,000 draws of 64 bits: about 2.7e-14
  // Both ends of the word are random, not a counter or a 32-bit value widened.
  EXPECT_GT(high, 400);
  EXPECT_LT(high, 600);
  EXPECT_GT(low, 400);
  EXPECT_LT(low, 600);
}

TEST(Random, HexHasTwoLowercaseDigitsPerByte) {
  for (int bytes : {0, 1, 7, 8, 9, 16, 33}) {
    const std::string h = RandomHex(bytes);
    ASSERT_EQ(h.size(), 2u * bytes);
    for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << h;
  }
  std::set<std::string> tokens;
  for (int i = 0; i < 200; ++i) tokens.insert(RandomHex(16));
  EXPECT_EQ(tokens.size(), 200u);
  // 9 bytes take a second draw: the ninth byte varies too.
  std::set<std::string> ninth;
  for (int i = 0; i < 64; ++i) ninth.insert(RandomHex(9).substr(16, 2));
  EXPECT_GT(ninth.size(), 20u);
}

TEST(Random, TemporaryNamesOfOneFileDiffer) {
  std::set<std::string> names;
  for (int i = 0; i < 200; ++i) names.insert(TemporaryNameFor("out.csv"));
  EXPECT_EQ(names.size(), 200u);
}

}  // namespace
}  // namespace fb
