#include "io/decompress.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include "io/test_streams.h"

namespace fb {
namespace {

using testing::StringReadStream;

std::string Gzip(const std::string& s) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, s.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
  z.avail_in = s.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& s) {
  std::string out(ZSTD_compressBound(s.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

Result<std::string> ReadThrough(const std::string& bytes, const std::string& name, size_t step = SIZE_MAX) {
  auto s = OpenDecompressed(std::make_unique<StringReadStream>(bytes, step), name);
  std::string out;
  char buf[777];
  for (;;) {
    FB_ASSIGN_OR_RETURN(size_t n, s->Read(buf, sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
  }
}

std::string Sample() {
  std::string s;
  for (int i = 0; i < 20000; ++i) s += std::to_string(i) + ",1,0,0.5\n";
  return s;
}

TEST(DecompressTest, ByExtension) {
  EXPECT_EQ(CompressionForName("a.csv.gz"), Compression::kGzip);
  EXPECT_EQ(CompressionForName("A.CSV.GZ"), Compression::kGzip);
  EXPECT_EQ(CompressionForName("a.csv.zst"), Compression::kZstd);
  EXPECT_EQ(CompressionForName("a.csv"), Compression::kNone);
  EXPECT_EQ(StripCompressionSuffix("d/a.csv.gz"), "d/a.csv");
  EXPECT_EQ(StripCompressionSuffix("a.zst"), "a");
  EXPECT_EQ(StripCompressionSuffix("a.csv"), "a.csv");
}

TEST(DecompressTest, RoundTrips) {
  const std::string s = Sample();
  for (size_t step : {size_t{1} << 20, size_t{13}}) {
    auto g = ReadThrough(Gzip(s), "x.csv.gz", step);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_EQ(*g, s);
    auto z = ReadThrough(Zstd(s), "x.csv.zst", step);
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    EXPECT_EQ(*z, s);
  }
  auto plain = ReadThrough(s, "x.csv");
  EXPECT_EQ(*plain, s);
}

TEST(DecompressTest, ConcatenatedGzipMembers) {
  auto g = ReadThrough(Gzip("1,2\n") + Gzip("3,4\n"), "x.gz");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(*g, "1,2\n3,4\n");
}

TEST(DecompressTest, TruncatedAndCorruptInputsFail) {
  const std::string s = Sample();
  std::string gz = Gzip(s);
  auto t = ReadThrough(gz.substr(0, gz.size() / 2), "x.csv.gz");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(t.status().path(), "x.csv.gz");
  EXPECT_NE(t.status().message().find("truncated gzip"), std::string::npos) << t.status().ToString();
  // Missing only the 8-byte trailer (CRC and size) is still truncated.
  EXPECT_FALSE(ReadThrough(gz.substr(0, gz.size() - 4), "x.csv.gz").ok());
  std::string bad = gz;
  bad[bad.size() / 2] ^= 0x55;
  bad[bad.size() / 2 + 1] ^= 0x55;
  auto c = ReadThrough(bad, "x.csv.gz");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidData);
  auto n = ReadThrough("not gzip at all", "x.csv.gz");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("corrupt gzip"), std::string::npos) << n.status().ToString();
  EXPECT_FALSE(ReadThrough("", "x.csv.gz").ok());

  std::string zs = Zstd(s);
  auto tz = ReadThrough(zs.substr(0, zs.size() / 2), "x.csv.zst");
  ASSERT_FALSE(tz.ok());
  EXPECT_NE(tz.status().message().find("truncated zstd"), std::string::npos) << tz.status().ToString();
  auto cz = ReadThrough("garbage!", "x.csv.zst");
  ASSERT_FALSE(cz.ok());
  EXPECT_NE(cz.status().message().find("corrupt zstd"), std::string::npos) << cz.status().ToString();
}

}  // namespace
}  // namespace fb
