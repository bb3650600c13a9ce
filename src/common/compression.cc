#include "common/compression.h"

#include <bzlib.h>
#include <fmt/format.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

namespace fb {
namespace {

constexpr size_t kChunk = size_t{1} << 16;

// The content's name in errors ("model", "page"); set per call.
thread_local std::string_view t_what = "model";

Status TooLarge(Compression kind, size_t max_output) {
  return InvalidData(fmt::format("{}-compressed {} inflates beyond {} MiB; refusing to go on",
                                 CompressionName(kind), t_what, max_output >> 20));
}
Status Corrupt(Compression kind, const std::string& why) {
  return InvalidData(
      fmt::format("{}-compressed {} is corrupt or truncated: {}", CompressionName(kind), t_what, why));
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
      return Corrupt(Compression::kLz4Frame, "unexpected end of data");
    }
    if (used == out.size() && !Grow(&out, used, max_output)) {
      LZ4F_freeDecompressionContext(ctx);
      return TooLarge(Compression::kLz4Frame, max_output);
    }
    size_t dst = out.size() - used, src = in.size() - in_off;
    hint = LZ4F_decompress(ctx, out.data() + used, &dst, in.data() + in_off, &src, nullptr);
    if (LZ4F_isError(hint)) {
      std::string msg = LZ4F_getErrorName(hint);
      LZ4F_freeDecompressionContext(ctx);
      return Corrupt(Compression::kLz4Frame, msg);
    }
    used += dst;
    in_off += src;
    if (dst == 0 && src == 0 && hint != 0) {
      LZ4F_freeDecompressionContext(ctx);
      return Corrupt(Compression::kLz4Frame, "no progress");
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
    case Compression::kLz4Frame: return "lz4";
    case Compression::kZstd: return "zstd";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4Raw: return "lz4_raw";
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
  if (starts("\x04\x22\x4d\x18")) return Compression::kLz4Frame;
  if (starts("\x28\xb5\x2f\xfd")) return Compression::kZstd;
  if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0x78 &&
      ((static_cast<unsigned>(static_cast<unsigned char>(h[0])) << 8) | static_cast<unsigned char>(h[1])) %
              31 ==
          0)
    return Compression::kZlib;
  return Compression::kNone;
}

namespace {

Result<std::string> ZstdWhole(std::string_view in, size_t max_output) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return Internal("zstd initialisation failed");
  std::string out;
  size_t used = 0;
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t last = 1;
  for (;;) {
    if (used == out.size() && !Grow(&out, used, max_output)) {
      ZSTD_freeDCtx(ctx);
      return TooLarge(Compression::kZstd, max_output);
    }
    ZSTD_outBuffer ob{out.data() + used, out.size() - used, 0};
    last = ZSTD_decompressStream(ctx, &ob, &ib);
    used += ob.pos;
    if (ZSTD_isError(last)) {
      std::string msg = ZSTD_getErrorName(last);
      ZSTD_freeDCtx(ctx);
      return Corrupt(Compression::kZstd, msg);
    }
    if (ib.pos == ib.size && ob.pos < ob.size) break;  // all input used, output not full
  }
  ZSTD_freeDCtx(ctx);
  if (last != 0) return Corrupt(Compression::kZstd, "unexpected end of data");
  out.resize(used);
  return out;
}

}  // namespace

Result<std::string> Decompress(std::string_view in, Compression kind, size_t max_output,
                               std::string_view what) {
  t_what = what;
  switch (kind) {
    case Compression::kZlib:
    case Compression::kGzip: return Zlib(in, kind, max_output);
    case Compression::kBz2: return Bz2(in, max_output);
    case Compression::kXz:
    case Compression::kLzma: return Xz(in, kind, max_output);
    case Compression::kLz4Frame: return Lz4(in, max_output);
    case Compression::kZstd: return ZstdWhole(in, max_output);
    case Compression::kSnappy:
    case Compression::kLz4Raw: {
      // Raw block formats: the size must be known; snappy states it.
      size_t n = 0;
      if (kind == Compression::kLz4Raw) return Internal("lz4_raw needs the decompressed size");
      if (snappy_uncompressed_length(in.data(), in.size(), &n) != SNAPPY_OK) {
        return Corrupt(kind, "bad length header");
      }
      if (n > max_output) return TooLarge(kind, max_output);
      std::string out(n, '\0');
      FB_RETURN_IF_ERROR(DecompressExact(in, kind, out.data(), n));
      return out;
    }
    case Compression::kNone: break;
  }
  return Internal("Decompress called on uncompressed data");
}

Status DecompressExact(std::string_view in, Compression kind, char* out, size_t out_size) {
  auto wrong_size = [&](size_t got) {
    return InvalidData(fmt::format("{}-compressed page holds {} bytes, its header says {}",
                                   CompressionName(kind), got, out_size));
  };
  switch (kind) {
    case Compression::kNone:
      if (in.size() != out_size) return wrong_size(in.size());
      if (out_size) std::memcpy(out, in.data(), out_size);
      return Status::Ok();
    case Compression::kSnappy: {
      size_t n = 0;
      if (snappy_uncompressed_length(in.data(), in.size(), &n) != SNAPPY_OK)
        return InvalidData("snappy-compressed page: bad length header");
      if (n != out_size) return wrong_size(n);
      size_t got = out_size;
      if (snappy_uncompress(in.data(), in.size(), out, &got) != SNAPPY_OK || got != out_size)
        return InvalidData("snappy-compressed page is corrupt");
      return Status::Ok();
    }
    case Compression::kLz4Raw: {
      if (in.size() > static_cast<size_t>(INT32_MAX) || out_size > static_cast<size_t>(INT32_MAX))
        return InvalidData("lz4_raw page too large");
      int got = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()), static_cast<int>(out_size));
      if (got < 0) return InvalidData("lz4_raw-compressed page is corrupt");
      if (static_cast<size_t>(got) != out_size) return wrong_size(static_cast<size_t>(got));
      return Status::Ok();
    }
    case Compression::kZstd: {
      // One context per thread: ZSTD_decompress would allocate (and fault
      // in) a fresh one for every page.
      struct Ctx {
        ZSTD_DCtx* c = ZSTD_createDCtx();
        ~Ctx() { ZSTD_freeDCtx(c); }
      };
      thread_local Ctx ctx;
      if (ctx.c == nullptr) return Internal("zstd initialisation failed");
      size_t got = ZSTD_decompressDCtx(ctx.c, out, out_size, in.data(), in.size());
      if (ZSTD_isError(got)) {
        return InvalidData(std::string("zstd-compressed page is corrupt: ") + ZSTD_getErrorName(got));
      }
      if (got != out_size) return wrong_size(got);
      return Status::Ok();
    }
    case Compression::kGzip:
    case Compression::kZlib: {
      z_stream z{};
      // 15 + 32: zlib or gzip header, detected.
      if (inflateInit2(&z, 15 + 32) != Z_OK) return Internal("inflateInit2");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = static_cast<uInt>(std::min<size_t>(out_size, UINT32_MAX));
      int rc = inflate(&z, Z_FINISH);
      size_t got = z.total_out;
      inflateEnd(&z);
      if (rc != Z_STREAM_END) {
        if (got == out_size && rc == Z_BUF_ERROR) return wrong_size(out_size + 1);
        return InvalidData("gzip-compressed page is corrupt or truncated");
      }
      if (got != out_size) return wrong_size(got);
      return Status::Ok();
    }
    default: break;
  }
  return Unsupported(fmt::format("{} compression is not supported here", CompressionName(kind)));
}

Result<std::string> Compress(std::string_view in, Compression kind, int level) {
  switch (kind) {
    case Compression::kNone: return std::string(in);
    case Compression::kSnappy: {
      size_t n = snappy_max_compressed_length(in.size());
      std::string out(n, '\0');
      if (snappy_compress(in.data(), in.size(), out.data(), &n) != SNAPPY_OK)
        return Internal("snappy_compress");
      out.resize(n);
      return out;
    }
    case Compression::kZstd: {
      std::string out(ZSTD_compressBound(in.size()), '\0');
      size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level > 0 ? level : 3);
      if (ZSTD_isError(n)) return Internal(std::string("ZSTD_compress: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return out;
    }
    case Compression::kGzip: {
      z_stream z{};
      if (deflateInit2(&z, level > 0 ? level : 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return Internal("deflateInit2");
      std::string out(deflateBound(&z, in.size()) + 64, '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&z, Z_FINISH);
      out.resize(z.total_out);
      deflateEnd(&z);
      if (rc != Z_STREAM_END) return Internal("deflate");
      return out;
    }
    default: break;
  }
  return Unsupported(fmt::format("cannot write {}-compressed data", CompressionName(kind)));
}

// --- names and streams (text inputs) ---

namespace {

constexpr size_t kInputBuffer = 1 << 18;

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(),
                    [](char want, char c) { return std::tolower(static_cast<unsigned char>(c)) == want; });
}

class GzipDecoder final : public StreamDecoder {
 public:
  GzipDecoder(Pull pull, std::string name)
      : pull_(std::move(pull)), name_(std::move(name)), in_(kInputBuffer) {
    // 16 + MAX_WBITS: gzip wrapper only (a .gz file must be gzip).
    ok_init_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipDecoder() override {
    if (ok_init_) inflateEnd(&z_);
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!ok_init_) return Internal("zlib initialisation failed").At(name_);
    if (n == 0 || done_) return size_t{0};
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && !eof_) {
        FB_ASSIGN_OR_RETURN(size_t got, pull_(in_.data(), in_.size()));
        if (got == 0) {
          eof_ = true;
        } else {
          z_.next_in = reinterpret_cast<Bytef*>(in_.data());
          z_.avail_in = static_cast<uInt>(got);
        }
      }
      if (z_.avail_in == 0 && eof_) {
        if (member_started_) {
          return InvalidData("truncated gzip input: the file ends inside a compressed stream").At(name_);
        }
        if (!any_member_) return InvalidData("empty gzip file (no gzip header)").At(name_);
        done_ = true;
        break;
      }
      member_started_ = true;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Another member may follow (concatenated .gz files, as gzip allows).
        any_member_ = true;
        member_started_ = false;
        inflateReset(&z_);
        continue;
      }
      if (rc == Z_BUF_ERROR) continue;  // needs more input; loop reads it
      if (rc != Z_OK) {
        return InvalidData(std::string("corrupt gzip input: ") + (z_.msg ? z_.msg : "inflate failed"))
            .At(name_);
      }
    }
    return static_cast<size_t>(z_.next_out - reinterpret_cast<Bytef*>(buf));
  }

 private:
  Pull pull_;
  std::string name_;
  std::vector<char> in_;
  z_stream z_{};
  bool ok_init_ = false;
  bool eof_ = false;
  bool done_ = false;
  bool member_started_ = false;
  bool any_member_ = false;
};

class ZstdDecoder final : public StreamDecoder {
 public:
  ZstdDecoder(Pull pull, std::string name)
      : pull_(std::move(pull)), name_(std::move(name)), in_(ZSTD_DStreamInSize()), ctx_(ZSTD_createDCtx()) {}
  ~ZstdDecoder() override { ZSTD_freeDCtx(ctx_); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (ctx_ == nullptr) return Internal("zstd initialisation failed").At(name_);
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos < out.size) {
      if (in_pos_ == in_len_ && !eof_) {
        FB_ASSIGN_OR_RETURN(size_t got, pull_(in_.data(), in_.size()));
        in_pos_ = 0;
        in_len_ = got;
        if (got == 0) eof_ = true;
      }
      if (in_pos_ == in_len_ && eof_) {
        // last_ == 0 means the last frame was complete.
        if (last_ != 0) {
          return InvalidData("truncated zstd input: the file ends inside a compressed frame").At(name_);
        }
        if (!any_frame_) return InvalidData("empty zstd file (no frame)").At(name_);
        break;
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      size_t before = out.pos;
      last_ = ZSTD_decompressStream(ctx_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(last_)) {
        return InvalidData(std::string("corrupt zstd input: ") + ZSTD_getErrorName(last_)).At(name_);
      }
      any_frame_ = true;
      if (out.pos == before && in.pos == in.size && eof_ && last_ != 0) {
        return InvalidData("truncated zstd input: the file ends inside a compressed frame").At(name_);
      }
    }
    return out.pos;
  }

 private:
  Pull pull_;
  std::string name_;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_len_ = 0;
  ZSTD_DCtx* ctx_;
  size_t last_ = 0;
  bool eof_ = false;
  bool any_frame_ = false;
};

}  // namespace

Compression CompressionForName(std::string_view name) {
  if (EndsWithNoCase(name, ".gz")) return Compression::kGzip;
  if (EndsWithNoCase(name, ".zst")) return Compression::kZstd;
  return Compression::kNone;
}

std::string_view StripCompressionSuffix(std::string_view name) {
  switch (CompressionForName(name)) {
    case Compression::kGzip: return name.substr(0, name.size() - 3);
    case Compression::kZstd: return name.substr(0, name.size() - 4);
    default: break;
  }
  return name;
}

Result<std::unique_ptr<StreamDecoder>> NewStreamDecoder(Compression kind, StreamDecoder::Pull pull,
                                                        std::string name) {
  switch (kind) {
    case Compression::kGzip:
      return std::unique_ptr<StreamDecoder>(new GzipDecoder(std::move(pull), std::move(name)));
    case Compression::kZstd:
      return std::unique_ptr<StreamDecoder>(new ZstdDecoder(std::move(pull), std::move(name)));
    default: break;
  }
  return Unsupported(fmt::format("{} input cannot be streamed", CompressionName(kind))).At(name);
}

}  // namespace fb
