#include "common/compression.h"

#include <gtest/gtest.h>
#include <lz4.h>

#include <string>

namespace fb {
namespace {

std::string Sample() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += std::to_string(i * 7919 % 1000) + ",";
  return s;
}

TEST(Compression, RoundTripsEveryWriterKindThroughDecompressExact) {
  const std::string s = Sample();
  for (Compression c : {Compression::kNone, Compression::kSnappy, Compression::kZstd, Compression::kGzip}) {
    auto packed = Compress(s, c);
    ASSERT_TRUE(packed.ok()) << CompressionName(c);
    std::string out(s.size(), '\0');
    ASSERT_TRUE(DecompressExact(*packed, c, out.data(), out.size()).ok()) << CompressionName(c);
    EXPECT_EQ(out, s) << CompressionName(c);
    // A header that states another size is an error, never a short page.
    std::string small(s.size() - 1, '\0');
    EXPECT_EQ(DecompressExact(*packed, c, small.data(), small.size()).code(), StatusCode::kInvalidData)
        << CompressionName(c);
    std::string big(s.size() + 1, '\0');
    EXPECT_EQ(DecompressExact(*packed, c, big.data(), big.size()).code(), StatusCode::kInvalidData)
        << CompressionName(c);
  }
}

TEST(Compression, Lz4RawBlocks) {
  const std::string s = Sample();
  std::string packed(LZ4_compressBound(static_cast<int>(s.size())), '\0');
  int n = LZ4_compress_default(s.data(), packed.data(), static_cast<int>(s.size()),
                               static_cast<int>(packed.size()));
  packed.resize(n);
  std::string out(s.size(), '\0');
  ASSERT_TRUE(DecompressExact(packed, Compression::kLz4Raw, out.data(), out.size()).ok());
  EXPECT_EQ(out, s);
  packed.resize(packed.size() / 2);
  EXPECT_EQ(DecompressExact(packed, Compression::kLz4Raw, out.data(), out.size()).code(),
            StatusCode::kInvalidData);
}

TEST(Compression, CorruptAndTruncatedInputsAreInvalidData) {
  const std::string s = Sample();
  for (Compression c : {Compression::kSnappy, Compression::kZstd, Compression::kGzip}) {
    std::string packed = *Compress(s, c);
    std::string cut = packed.substr(0, packed.size() / 2);
    std::string out(s.size(), '\0');
    EXPECT_EQ(DecompressExact(cut, c, out.data(), out.size()).code(), StatusCode::kInvalidData)
        << CompressionName(c);
    std::string junk(64, '\xff');
    EXPECT_EQ(DecompressExact(junk, c, out.data(), out.size()).code(), StatusCode::kInvalidData)
        << CompressionName(c);
  }
}

TEST(Compression, WholeStreamsAreCappedAndNameWhatTheyHold) {
  const std::string s = Sample();
  std::string z = *Compress(s, Compression::kZstd);
  EXPECT_EQ(DetectCompression(z), Compression::kZstd);
  EXPECT_EQ(*Decompress(z, Compression::kZstd), s);
  auto capped = Decompress(z, Compression::kZstd, 100, "page");
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.status().message().find("zstd-compressed page inflates beyond"), std::string::npos)
      << capped.status().message();
  std::string g = *Compress(s, Compression::kGzip);
  EXPECT_EQ(DetectCompression(g), Compression::kGzip);
  EXPECT_EQ(*Decompress(g, Compression::kGzip), s);
  EXPECT_FALSE(Decompress(g.substr(0, g.size() - 9), Compression::kGzip).ok());
  std::string sn = *Compress(s, Compression::kSnappy);
  EXPECT_EQ(*Decompress(sn, Compression::kSnappy), s);
}

TEST(Compression, OneNamingRuleForCompressedInputs) {
  EXPECT_EQ(StripCompressionSuffix("a.csv.gz"), "a.csv");
  EXPECT_EQ(StripCompressionSuffix("d/a.csv.ZST"), "d/a.csv");
  EXPECT_EQ(StripCompressionSuffix("a.parquet"), "a.parquet");
  EXPECT_EQ(CompressionForName("x.gz"), Compression::kGzip);
}

}  // namespace
}  // namespace fb
