// Compression: the one decompression (and compression) module of forestbatch,
// used by the model importers (compressed joblib files), the data readers
// (.gz/.zst inputs) and Parquet pages.
//
// Kinds and where they come from:
//   - by magic bytes (DetectCompression): joblib.dump(..., compress=...)
//     wraps a pickle in zlib (0x78), gzip (1f 8b), bz2 ("BZh"), xz
//     (fd '7zXZ'), lzma-alone (5d 00) or an lz4 frame (04 22 4d 18);
//   - by file name (CompressionForName): ".gz" gzip and ".zst" zstd, the
//     compressed text inputs that are streamed (StreamDecoder);
//   - by a Parquet column chunk's codec: snappy, gzip, zstd, lz4_raw (raw
//     lz4 blocks), whose pages are decompressed whole into a buffer of the
//     size the page header states (DecompressExact).
// Output is always capped or exact: a stream that inflates beyond its cap or
// its stated size is an error (no decompression bombs), and a truncated or
// corrupt stream is kInvalidData, never silently short output.
//
// Thread safety: functions are pure; a StreamDecoder is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fb {

enum class Compression : uint8_t {
  kNone,
  kZlib,
  kGzip,
  kBz2,
  kXz,
  kLzma,
  kLz4Frame,
  kZstd,
  kSnappy,
  kLz4Raw
};

const char* CompressionName(Compression c);

// By magic bytes (the kinds joblib writes, and zstd); kNone if none matches.
Compression DetectCompression(std::string_view head);

// By the file name's extension (case-insensitive): ".gz" -> kGzip, ".zst"
// -> kZstd, anything else kNone.
Compression CompressionForName(std::string_view name);

// The name without the suffix CompressionForName recognises
// ("a.csv.gz" -> "a.csv"): the one rule for naming outputs of compressed
// inputs.
std::string_view StripCompressionSuffix(std::string_view name);

constexpr size_t kMaxDecompressedModel = size_t{2} << 30;  // 2 GiB

// Decompresses a whole stream of the given kind (not kNone); at most
// `max_output` bytes. `what` names the content in errors ("model", "page").
Result<std::string> Decompress(std::string_view in, Compression kind,
                               size_t max_output = kMaxDecompressedModel, std::string_view what = "model");

// Decompresses `in` into exactly `out_size` bytes at `out` (Parquet pages,
// whose headers state the size): more or fewer bytes is kInvalidData.
// Supports kNone (a copy), kSnappy, kGzip, kZlib, kZstd, kLz4Raw.
Status DecompressExact(std::string_view in, Compression kind, char* out, size_t out_size);

// Compresses a whole buffer (writers): kNone, kSnappy, kZstd, kGzip.
Result<std::string> Compress(std::string_view in, Compression kind, int level = 0);

// A streaming decoder over a source of compressed bytes (`pull` reads up to
// n bytes, 0 at the end). Gzip allows concatenated members.
class StreamDecoder {
 public:
  using Pull = std::function<Result<size_t>(char* buf, size_t n)>;
  virtual ~StreamDecoder() = default;
  // Reads up to n decompressed bytes; 0 at the end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

// kGzip or kZstd (the streamed input kinds); `name` appears in errors.
Result<std::unique_ptr<StreamDecoder>> NewStreamDecoder(Compression kind, StreamDecoder::Pull pull,
                                                        std::string name);

}  // namespace fb
