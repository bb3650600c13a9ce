#include "io/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace fb {
namespace {

constexpr size_t kInputBuffer = 1 << 18;

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(),
                    [](char want, char c) { return std::tolower(static_cast<unsigned char>(c)) == want; });
}

class GzipStream final : public ReadStream {
 public:
  GzipStream(std::unique_ptr<ReadStream> raw, std::string name)
      : raw_(std::move(raw)), name_(std::move(name)), in_(kInputBuffer) {
    // 16 + MAX_WBITS: gzip wrapper only (a .gz file must be gzip).
    ok_init_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~GzipStream() override {
    if (ok_init_) inflateEnd(&z_);
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!ok_init_) return Internal("zlib initialisation failed").At(name_);
    if (n == 0 || done_) return size_t{0};
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && !eof_) {
        FB_ASSIGN_OR_RETURN(size_t got, raw_->Read(in_.data(), in_.size()));
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
  std::unique_ptr<ReadStream> raw_;
  std::string name_;
  std::vector<char> in_;
  z_stream z_{};
  bool ok_init_ = false;
  bool eof_ = false;
  bool done_ = false;
  bool member_started_ = false;
  bool any_member_ = false;
};

class ZstdStream final : public ReadStream {
 public:
  ZstdStream(std::unique_ptr<ReadStream> raw, std::string name)
      : raw_(std::move(raw)), name_(std::move(name)), in_(ZSTD_DStreamInSize()), ctx_(ZSTD_createDCtx()) {}
  ~ZstdStream() override { ZSTD_freeDCtx(ctx_); }

  Result<size_t> Read(char* buf, size_t n) override {
    if (ctx_ == nullptr) return Internal("zstd initialisation failed").At(name_);
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos < out.size) {
      if (in_pos_ == in_len_ && !eof_) {
        FB_ASSIGN_OR_RETURN(size_t got, raw_->Read(in_.data(), in_.size()));
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
  std::unique_ptr<ReadStream> raw_;
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
    case Compression::kNone: break;
  }
  return name;
}

std::unique_ptr<ReadStream> OpenDecompressed(std::unique_ptr<ReadStream> raw, const std::string& name) {
  switch (CompressionForName(name)) {
    case Compression::kGzip: return std::make_unique<GzipStream>(std::move(raw), name);
    case Compression::kZstd: return std::make_unique<ZstdStream>(std::move(raw), name);
    case Compression::kNone: break;
  }
  return raw;
}

}  // namespace fb
