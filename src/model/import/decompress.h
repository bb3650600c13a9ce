// Decompression of compressed joblib files, detected by magic bytes.
//
// joblib.dump(..., compress=...) wraps the whole pickle stream in one of:
// zlib (0x78), gzip (1f 8b), bz2 ("BZh"), xz (fd '7zXZ'), lzma-alone (5d 00)
// or an lz4 frame (04 22 4d 18). Output is capped: a file that inflates
// beyond `max_output` bytes is an error (no decompression bombs).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fb {

enum class Compression { kNone, kZlib, kGzip, kBz2, kXz, kLzma, kLz4 };

const char* CompressionName(Compression c);
Compression DetectCompression(std::string_view head);

constexpr size_t kMaxDecompressedModel = size_t{2} << 30;  // 2 GiB

// Decompresses a whole stream of the given kind (not kNone).
Result<std::string> Decompress(std::string_view in, Compression kind,
                               size_t max_output = kMaxDecompressedModel);

}  // namespace fb
