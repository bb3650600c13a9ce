#include "common/crc32.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace fb {
namespace {

TEST(Crc32Test, KnownValues) {
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
  const std::string zeros(4096, '\0');
  EXPECT_EQ(Crc32(zeros), Crc32Zlib(zeros));
}

// Every length from 0 to 1,100 (all tails and lane counts of the folding
// path), then large ones, at every alignment, continued from random
// states: the same as zlib.
TEST(Crc32Test, EqualsZlibForEveryLengthAlignmentAndStart) {
  std::mt19937_64 rng(5);
  std::string buf(1 << 20, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t len = 0; len <= 1100; ++len) {
    const size_t at = len % 16;
    const uint32_t start = len % 3 == 0 ? 0 : static_cast<uint32_t>(rng());
    std::string_view b(buf.data() + at, len);
    ASSERT_EQ(Crc32(b, start), Crc32Zlib(b, start)) << "length " << len << " at " << at;
  }
  for (size_t len : {size_t{65536}, size_t{65536 + 77}, (size_t{1} << 20) - 16}) {
    std::string_view b(buf.data() + len % 13, len);
    ASSERT_EQ(Crc32(b), Crc32Zlib(b)) << len;
  }
  // Continuing a checksum over split input gives the whole one.
  std::string_view all(buf.data(), 100000);
  EXPECT_EQ(Crc32(all.substr(33333), Crc32(all.substr(0, 33333))), Crc32Zlib(all));
}

}  // namespace
}  // namespace fb
