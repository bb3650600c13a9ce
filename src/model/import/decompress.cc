#include "model/import/decompress.h"

#include <bzlib.h>
#include <fmt/format.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>

namespace fb {
namespace {

constexpr size_t kChunk = size_t{1} << 16;

Status TooLarge(Compression kind, size_t max_output) {
  return InvalidData(fmt::format("{}-compressed model inflates beyond {} MiB; refusing to go on",
                                 CompressionName(kind), max_output >> 20));
}
Status Corrupt(Compression kind, const std::string& why) {
  return InvalidData(
      fmt::format("{}-compressed model is corrupt or truncated: {}", CompressionName(kind), why));
}

// Grows `out` by one chunk (within the cap) and returns where to write.
bool Grow(std::string* out, size_t used, size_t max_output) {
  if (used >= max_output) return false;
  size_t want = std::min(max_output, std::max(used * 2, used + kChunk));
  out->resize(want);
  return true;
}

Result<std::string> Zlib(std::string_view in, Compression kind, size_t max_output) {
  z_stream z{};
  if (inflateInit2(&z, kind == Compression::kGzip ? 15 + 16 : 15) != Z_OK) return Internal("inflateInit2");
  std::string out;
  size_t used = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  size_t consumed_base = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (used == out.size() && !Grow(&out, used, max_output)) {
      inflateEnd(&z);
      return TooLarge(kind, max_output);
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - used, UINT32_MAX));
    size_t before = z.avail_out;
    if (z.avail_in == 0 && consumed_base + z.total_in < in.size()) {
      size_t off = static_cast<size_t>(z.total_in);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + off));
      z.avail_in = static_cast<uInt>(std::min<size_t>(in.size() - off, UINT32_MAX));
    }
    rc = inflate(&z, Z_NO_FLUSH);
    used += before - z.avail_out;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && z.avail_out > 0) {
      inflateEnd(&z);
      return Corrupt(kind, "unexpected end of data");
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      std::string msg = z.msg ? z.msg : "inflate failed";
      inflateEnd(&z);
      return Corrupt(kind, msg);
    }
  }
  inflateEnd(&z);
  out.resize(used);
  return out;
}

Result<std::string> Bz2(std::string_view in, size_t max_output) {
  bz_stream b{};
  if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK) return Internal("BZ2_bzDecompressInit");
  std::string out;
  size_t used = 0, in_off = 0;
  int rc = BZ_OK;
  while (rc != BZ_STREAM_END) {
    if (used == out.size() && !Grow(&out, used, max_output)) {
      BZ2_bzDecompressEnd(&b);
      return TooLarge(Compression::kBz2, max_output);
    }
    if (b.avail_in == 0 && in_off < in.size()) {
      b.next_in = const_cast<char*>(in.data() + in_off);
      b.avail_in = static_cast<unsigned>(std::min<size_t>(in.size() - in_off, 1u << 30));
      in_off += b.avail_in;
    }
    b.next_out = out.data() + used;
    b.avail_out = static_cast<unsigned>(std::min<size_t>(out.size() - used, 1u << 30));
    unsigned before = b.avail_out;
    unsigned in_before = b.avail_in;
    rc = BZ2_bzDecompress(&b);
    used += before - b.avail_out;
    if (rc != BZ_OK && rc != BZ_STREAM_END) {
      BZ2_bzDecompressEnd(&b);
      return Corrupt(Compression::kBz2, fmt::format("error {}", rc));
    }
    if (rc == BZ_OK && b.avail_in == 0 && in_off >= in.size() && before == b.avail_out && in_before == 0) {
      BZ2_bzDecompressEnd(&b);
      return Corrupt(Compression::kBz2, "unexpected end of data");
    }
  }
  BZ2_bzDecompressEnd(&b);
  out.resize(used);
  return out;
}

Result<std::string> Xz(std::string_view in, Compression kind, size_t max_output) {
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_ret init = kind == Compression::kXz ? lzma_stream_decoder(&s, uint64_t{1} << 30, 0)
                                           : lzma_alone_decoder(&s, uint64_t{1} << 30);
  if (init != LZMA_OK) return Internal("lzma decoder init");
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  std::string out;
  size_t used = 0;
  lzma_ret rc = LZMA_OK;
  while (rc != LZMA_STREAM_END) {
    if (used == out.size() && !Grow(&out, used, max_output)) {
      lzma_end(&s);
      return TooLarge(kind, max_output);
    }
    s.next_out = reinterpret_cast<uint8_t*>(out.data() + used);
    s.avail_out = out.size() - used;
    size_t before = s.avail_out;
    rc = lzma_code(&s, s.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    used += before - s.avail_out;
    if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
      lzma_end(&s);
      return Corrupt(kind,
                     rc == LZMA_BUF_ERROR ? "unexpected end of data" : fmt::format("error {}", int(rc)));
    }
  }
  lzma_end(&s);
  out.resize(used);
  return out;
}

Result<std::string> Lz4(std::string_view in, size_t max_output) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return Internal("LZ4F context");
  std::string out;
  size_t used = 0, in_off = 0, hint = 1;
  while (hint != 0) {
    if (in_off >= in.size()) {
      LZ4F_freeDecompressionContext(ctx);
      return Corrupt(Compression::kLz4, "unexpected end of data");
    }
    if (used == out.size() && !Grow(&out, used, max_output)) {
      LZ4F_freeDecompressionContext(ctx);
      return TooLarge(Compression::kLz4, max_output);
    }
    size_t dst = out.size() - used, src = in.size() - in_off;
    hint = LZ4F_decompress(ctx, out.data() + used, &dst, in.data() + in_off, &src, nullptr);
    if (LZ4F_isError(hint)) {
      std::string msg = LZ4F_getErrorName(hint);
      LZ4F_freeDecompressionContext(ctx);
      return Corrupt(Compression::kLz4, msg);
    }
    used += dst;
    in_off += src;
    if (dst == 0 && src == 0 && hint != 0) {
      LZ4F_freeDecompressionContext(ctx);
      return Corrupt(Compression::kLz4, "no progress");
    }
  }
  LZ4F_freeDecompressionContext(ctx);
  out.resize(used);
  return out;
}

}  // namespace

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "uncompressed";
    case Compression::kZlib: return "zlib";
    case Compression::kGzip: return "gzip";
    case Compression::kBz2: return "bz2";
    case Compression::kXz: return "xz";
    case Compression::kLzma: return "lzma";
    case Compression::kLz4: return "lz4";
  }
  return "?";
}

Compression DetectCompression(std::string_view h) {
  auto starts = [&](std::string_view p) { return h.substr(0, p.size()) == p; };
  if (starts("\x1f\x8b")) return Compression::kGzip;
  if (starts("BZh")) return Compression::kBz2;
  if (starts("\xfd"
             "7zXZ"))
    return Compression::kXz;
  if (starts(std::string_view("\x5d\x00", 2))) return Compression::kLzma;
  if (starts("\x04\x22\x4d\x18")) return Compression::kLz4;
  if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0x78 &&
      ((static_cast<unsigned>(static_cast<unsigned char>(h[0])) << 8) | static_cast<unsigned char>(h[1])) %
              31 ==
          0)
    return Compression::kZlib;
  return Compression::kNone;
}

Result<std::string> Decompress(std::string_view in, Compression kind, size_t max_output) {
  switch (kind) {
    case Compression::kZlib:
    case Compression::kGzip: return Zlib(in, kind, max_output);
    case Compression::kBz2: return Bz2(in, max_output);
    case Compression::kXz:
    case Compression::kLzma: return Xz(in, kind, max_output);
    case Compression::kLz4: return Lz4(in, max_output);
    case Compression::kNone: break;
  }
  return Internal("Decompress called on uncompressed data");
}

}  // namespace fb
